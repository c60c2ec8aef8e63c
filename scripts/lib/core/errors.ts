// core/ owns what every layer uses and nothing of the domain: the named failures and exit codes (here),
// atomic writes under the repository lock and the one path guard (atomic.ts), names, YAML, quantities, the
// repository layout, git, the terminal and the CLI shell (cli.ts). It imports no other folder.
//
// The few named failures every CLI maps to an exit code at its edge (scripts/lib/core/cli.ts).

/** Where a problem is and how to fix it. `file` is repo-relative; `path` is a JSON pointer inside it. */
export interface Problem {
  file?: string;
  path?: string;
  /** 1-based line of `path` in `file`, when the reader knows it (env.yaml, gitops.yaml). */
  line?: number;
  message: string;
  fix?: string;
}

export function formatProblem(p: Problem): string {
  const where = [p.file, p.path && p.path !== '' ? p.path : undefined].filter(Boolean).join(' ');
  const message = p.line !== undefined ? `${p.message} (line ${p.line})` : p.message;
  const head = where ? `${where}: ${message}` : message;
  return p.fix ? `${head}\n    fix: ${p.fix}` : head;
}

/** Bad command-line usage: exit 2, usage printed. */
export class UsageError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Bad input files or values: exit 2, every problem listed, nothing written. */
export class InputError extends Error {
  readonly exitCode = 2;
  readonly problems: Problem[];
  constructor(problems: Problem[] | Problem, summary?: string) {
    const list = Array.isArray(problems) ? problems : [problems];
    super(summary ?? `${list.length} problem${list.length === 1 ? '' : 's'} found; nothing was written`);
    this.name = 'InputError';
    this.problems = list;
  }
}

/** The command ran and found something the user must act on (drift, policy findings): exit 1. */
export class FindingsError extends Error {
  readonly exitCode = 1;
  constructor(message: string) {
    super(message);
    this.name = 'FindingsError';
  }
}

/** Another run holds the repository lock, or an environment fact prevents the run: exit 2. */
export class ConflictError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}

export function exitCodeOf(error: unknown): number {
  if (error && typeof error === 'object' && 'exitCode' in error && typeof error.exitCode === 'number') {
    return error.exitCode;
  }
  return 1;
}
