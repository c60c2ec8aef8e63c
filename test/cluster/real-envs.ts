// The environments of this repository (overlays/<name>/env.yaml), for tests that cover each one.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { committedBaseline } from '../support/repo-copy.ts';

// As committed: an environment a user adds to the working tree is not one of the repository's.
const REPO = committedBaseline();
export const ENVIRONMENT_NAMES: readonly string[] = readdirSync(join(REPO, 'overlays')).filter((d) => existsSync(join(REPO, 'overlays', d, 'env.yaml'))).sort();
