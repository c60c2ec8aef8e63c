// One scratch directory for the whole test run, for what a worker keeps across the files it runs (the
// repository trees of test/support/repo-copy.ts): made here, named to the workers in the environment
// (they start after this, and inherit it), and removed with everything in it when the run ends, however
// the workers were stopped.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SCRATCH_ENV = 'GITOPS_TEST_SCRATCH';

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'gitops-tests-'));
  process.env[SCRATCH_ENV] = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
