// Starting git: the one process runner for every git call the review and render code makes.
import { execFile } from 'node:child_process';

export interface GitRawResult {
  stdout: Buffer;
  stderr: string;
  code: number;
}

/** Runs git in `root`, feeding `input` on stdin; never rejects: a failure is a non-zero `code`. */
export function gitRaw(root: string, args: readonly string[], input?: string, maxBuffer = 64 * 1024 * 1024): Promise<GitRawResult> {
  return new Promise((done) => {
    const child = execFile('git', [...args], { cwd: root, maxBuffer, encoding: 'buffer' }, (error, stdout, stderr) => {
      done({ stdout, stderr: stderr.toString('utf8'), code: error ? (typeof error.code === 'number' ? error.code : 1) : 0 });
    });
    // git may exit before reading its input (e.g. a bad ref): that surfaces as its exit code, not EPIPE.
    child.stdin?.on('error', () => {});
    child.stdin?.end(input);
  });
}

/** Like gitRaw, but a non-zero exit throws with git's own message. */
export async function gitChecked(root: string, args: readonly string[], input?: string, maxBuffer?: number): Promise<Buffer> {
  const r = await gitRaw(root, args, input, maxBuffer);
  if (r.code !== 0) throw new Error(`git ${args.join(' ')} failed: ${r.stderr.trim()}`);
  return r.stdout;
}
