#!/usr/bin/env zx
// zx scripts/scan-secrets.ts [path…]: the repository's secret scan (scripts/lib/secret-scan.ts). Exit 1 on findings.
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { runCli } from './lib/cli.ts';
import type { CliSpec } from './lib/cli.ts';
import { formatProblem, UsageError } from './lib/errors.ts';
import { findingToProblem, isScanned, scanForSecrets } from './lib/secret-scan.ts';

const options = {} as const;

const spec: CliSpec<typeof options> = {
  name: 'scan-secrets',
  synopsis: '[path…]',
  description:
    'Scans the files git knows about (tracked and untracked, not ignored) — or the given paths — for private keys, ' +
    'well-known token formats, passwords in URLs, literal values assigned to secret-named keys and Kubernetes Secrets ' +
    'with data. Values are never printed. Exit 1 when anything is found.',
  optionHelp: [],
  options,
  positionals: [0, Number.POSITIVE_INFINITY],
  examples: ['zx scripts/scan-secrets.ts', 'zx scripts/scan-secrets.ts overlays/prod/.env docs/'],
};

function gitFiles(args: string[]): string[] {
  try {
    const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--', ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    return out.split('\0').filter((p) => p !== '');
  } catch (error) {
    throw new UsageError(`cannot list files with git (${(error as Error).message.split('\n')[0]}); run it inside the repository`);
  }
}

await runCli(spec, import.meta.url, ({ positionals }, io) => {
  const files: Record<string, string> = {};
  for (const path of gitFiles(positionals)) {
    if (!isScanned(path)) continue;
    try {
      if (!statSync(path).isFile()) continue;
      files[path] = readFileSync(path, 'utf8');
    } catch {
      // deleted in the work tree but still in the index: nothing to scan
    }
  }
  const findings = scanForSecrets(files);
  for (const f of findings) io.out(formatProblem(findingToProblem(f)));
  io.err(`scan-secrets: ${Object.keys(files).length} files scanned, ${findings.length} finding(s)`);
  return findings.length > 0 ? 1 : 0;
});
