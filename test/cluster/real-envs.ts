// The environments of this repository (overlays/<name>/env.yaml), for tests that cover each one.
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

const REPO = resolve(import.meta.dirname, '../..');
export const ENVIRONMENT_NAMES: readonly string[] = readdirSync(join(REPO, 'overlays')).filter((d) => existsSync(join(REPO, 'overlays', d, 'env.yaml'))).sort();
