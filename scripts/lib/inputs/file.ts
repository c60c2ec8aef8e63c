// The one reader of the toolkit's input files (gitops.yaml, overlays/<env>/env.yaml, .env). An input
// is a regular file inside the repository, valid UTF-8 without a byte-order mark, with no invisible
// or bidirectional characters. A symbolic link, directory, FIFO, socket or device is refused by its
// lstat before anything is opened (so no foreign content is ever read or printed, and a FIFO cannot
// block); the open itself uses O_NOFOLLOW | O_NONBLOCK and re-checks the opened file, so a swap
// between the check and the open is refused too.
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InputError, type Problem } from '../core/errors.ts';
import { pathSyntaxProblem } from '../core/atomic.ts';
import { invisibleCharacterProblems } from '../core/text.ts';

/** Input files are small; anything larger is refused rather than read (Kubernetes objects stop at 1 MiB anyway). */
export const INPUT_FILE_MAX_BYTES = 1024 * 1024;

export type InputFileResult =
  | { kind: 'ok'; text: string; bytes: Buffer }
  | { kind: 'missing' }
  | { kind: 'refused'; problems: Problem[] };

function typeOf(st: import('node:fs').Stats): string {
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a named pipe (FIFO)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

function notRegular(rel: string, what: string, st: import('node:fs').Stats): Problem {
  return {
    file: rel,
    message: `${what === rel ? 'is' : `${what} is`} ${typeOf(st)}, not a regular file; input files are read only as regular files inside the repository (nothing was read from it)`,
    fix: st.isSymbolicLink()
      ? `replace the link with a regular file holding the content (e.g. \`cp --remove-destination "$(readlink -f ${what})" ${what}\`)`
      : `replace ${what} with a regular file`,
  };
}

/** Byte offset of the first invalid UTF-8 sequence (RFC 3629: no overlongs, surrogates or code points past U+10FFFF). */
function firstInvalidUtf8(b: Buffer): number {
  for (let i = 0; i < b.length; ) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    const n = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : 0;
    if (n === 0 || i + n >= b.length) return i;
    const lo = c === 0xe0 ? 0xa0 : c === 0xf0 ? 0x90 : 0x80;
    const hi = c === 0xed ? 0x9f : c === 0xf4 ? 0x8f : 0xbf;
    if (b[i + 1]! < lo || b[i + 1]! > hi) return i;
    for (let k = 2; k <= n; k++) if (b[i + k]! < 0x80 || b[i + k]! > 0xbf) return i;
    i += n + 1;
  }
  return b.length;
}

/**
 * Decodes input bytes as the toolkit requires: UTF-8 (never replaced by U+FFFD), no BOM, no invisible
 * or bidirectional characters. Problems name the file, the line and the fix.
 */
export function decodeInput(rel: string, bytes: Buffer | Uint8Array): { text?: string; problems: Problem[] } {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(buf);
  } catch {
    const offset = firstInvalidUtf8(buf);
    const line = buf.subarray(0, offset).toString('latin1').split('\n').length;
    return {
      problems: [{ file: rel, path: `line ${line}`, message: `is not valid UTF-8 (byte ${offset}); the toolkit would have to change bytes you did not ask it to change`, fix: 'save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)' }],
    };
  }
  if (text.startsWith('\uFEFF')) {
    return { problems: [{ file: rel, path: 'line 1', message: 'starts with a UTF-8 byte-order mark (BOM)', fix: 'save the file as UTF-8 without BOM' }] };
  }
  const problems = invisibleCharacterProblems(rel, text);
  return problems.length > 0 ? { problems } : { text, problems: [] };
}

/**
 * Reads the input file `rel` (repo-relative) under `root` safely; see the file header. `missing`
 * lets each caller say what a missing file means.
 */
export function readInputFile(root: string, rel: string): InputFileResult {
  const syntax = pathSyntaxProblem(rel);
  if (syntax) return { kind: 'refused', problems: [{ file: rel, message: `is not a path inside the repository: ${syntax}`, fix: 'name a file inside the repository' }] };
  const absRoot = resolve(root);
  const parts = rel.split('/');
  for (let i = 1; i <= parts.length; i++) {
    const what = parts.slice(0, i).join('/');
    let st;
    try {
      st = lstatSync(join(absRoot, what));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return { kind: 'missing' };
      throw error;
    }
    const last = i === parts.length;
    if (last ? !st.isFile() : !st.isDirectory()) return { kind: 'refused', problems: [notRegular(rel, what, st)] };
  }
  let fd: number;
  try {
    fd = openSync(join(absRoot, rel), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { kind: 'missing' };
    return { kind: 'refused', problems: [{ file: rel, message: `cannot be opened as a regular file (${code})`, fix: `replace ${rel} with a regular file` }] };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { kind: 'refused', problems: [notRegular(rel, rel, st)] };
    if (st.size > INPUT_FILE_MAX_BYTES) {
      return { kind: 'refused', problems: [{ file: rel, message: `is ${st.size} bytes; input files are at most ${INPUT_FILE_MAX_BYTES} bytes`, fix: 'keep settings short: this file becomes Kubernetes objects, each limited to 1 MiB' }] };
    }
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.alloc(64 * 1024);
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      total += n;
      if (total > INPUT_FILE_MAX_BYTES) {
        return { kind: 'refused', problems: [{ file: rel, message: `grew past ${INPUT_FILE_MAX_BYTES} bytes while being read`, fix: 'keep settings short' }] };
      }
      chunks.push(chunk.subarray(0, n));
    }
    const bytes = Buffer.concat(chunks);
    const decoded = decodeInput(rel, bytes);
    if (decoded.text === undefined) return { kind: 'refused', problems: decoded.problems };
    return { kind: 'ok', text: decoded.text, bytes };
  } finally {
    closeSync(fd);
  }
}

/** readInputFile for callers that need the text: a missing or refused file is an InputError (exit 2). */
export function readInputText(root: string, rel: string, missingFix = `restore ${rel}`): string {
  const r = readInputFile(root, rel);
  if (r.kind === 'ok') return r.text;
  if (r.kind === 'missing') throw new InputError({ file: rel, message: 'is missing', fix: missingFix });
  throw new InputError(r.problems);
}
