// Running the review CLIs end to end, as a user would, in a fixture repository.
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';

const SCRIPTS = resolve(import.meta.dirname, '../../scripts');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runScript(script: 'render' | 'validate' | 'diff', args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<CliResult> {
  return new Promise((done) => {
    execFile(process.execPath, [join(SCRIPTS, `${script}.ts`), ...args], { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

/**
 * A `kustomize` on PATH that records each invocation in a log file, then delegates to
 * `kubectl kustomize`: lets tests count real builds.
 */
export function countingKustomize(): { env: NodeJS.ProcessEnv; log: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'fake-kustomize-'));
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const log = join(dir, 'calls.log');
  writeFileSync(log, '');
  writeFileSync(
    join(bin, 'kustomize'),
    `#!/bin/sh\nif [ "$1" = version ]; then echo v5.5.0-counting; exit 0; fi\necho "$2" >> "${log}"\nexec kubectl kustomize "$2"\n`,
  );
  chmodSync(join(bin, 'kustomize'), 0o755);
  return { env: { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ''}` }, log, dir };
}
