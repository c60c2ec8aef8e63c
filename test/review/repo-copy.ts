// The review tests' repository copy is the shared one (test/support/repo-copy.ts).
export { createRepoCopy } from '../support/repo-copy.ts';
export type { RepoCopy } from '../support/repo-copy.ts';
