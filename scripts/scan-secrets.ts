#!/usr/bin/env zx
// zx scripts/scan-secrets.ts [path…]: the repository's secret scan (scripts/lib/secrets/scan.ts). Exit 1 on findings.
import { existsSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { findRepoRoot, runCli } from './lib/core/cli.ts';
import type { CliSpec } from './lib/core/cli.ts';
import { formatProblem, UsageError } from './lib/core/errors.ts';
import type { CollectedFiles } from './lib/secrets/scan.ts';

const options = {} as const;

const spec: CliSpec<typeof options> = {
  name: 'scan-secrets',
  synopsis: '[path…]',
  description:
    'Scans every file git tracks (node_modules paths and lockfiles included), a staged change that differs from ' +
    'the work tree, and untracked files git would add — or only those under the given paths — with secretlint\'s ' +
    "recommended rules plus this repository's (Kubernetes Secrets and secretGenerators with data in any form, " +
    'literal values under secret-named keys in YAML/JSON/.env, credentials in URLs, JSON Web Tokens, base64-encoded ' +
    'private keys). UTF-16 and files with NUL bytes are decoded; a file that cannot be read (compressed, a YAML alias ' +
    'bomb or syntax error, a submodule) is a finding too. Values are never printed. A documented fake is allowed ' +
    'with "secretlint-disable-line" on its line. Exit 1 when anything is found, 2 on bad usage.',
  optionHelp: [],
  options,
  positionals: [0, Number.POSITIVE_INFINITY],
  examples: ['zx scripts/scan-secrets.ts', 'zx scripts/scan-secrets.ts overlays/prod/.env docs/'],
};

await runCli(spec, import.meta.url, async ({ positionals }, io) => {
  // Loaded here, not at start-up: --help and usage errors stay instant (bench/README.md, Start-up).
  const { collectRepositoryFiles, compareFindings, detectInFiles, findingToProblem } = await import('./lib/secrets/scan.ts');
  // A path that does not exist would scan nothing and pass: refuse it.
  const missing = positionals.filter((p) => !existsSync(p));
  if (missing.length > 0) throw new UsageError(`no such file or directory: ${missing.join(', ')}`);
  const root = findRepoRoot();
  let collected: CollectedFiles;
  try {
    // Paths as the user typed them (relative to where they are), as git pathspecs from the root.
    collected = await collectRepositoryFiles(root, positionals.map((p) => relative(root, resolve(p)) || '.'));
  } catch (error) {
    throw new UsageError(`cannot list files with git (${(error as Error).message.split('\n')[0]}); run it inside the repository`);
  }
  const findings = [...collected.unscannable, ...(await detectInFiles(collected.files))].sort(compareFindings);
  for (const f of findings) io.out(formatProblem(findingToProblem(f)));
  io.err(`scan-secrets: ${collected.files.length} files scanned, ${findings.length} finding(s)`);
  return findings.length > 0 ? 1 : 0;
});
