// Cache entries that carry their own checksum (issue 30: a truncated or hand-edited render was served).
// Every file the render cache writes under .cache/render (Kustomize's output, its canonical text and
// objects, the plan, the parsed-kustomization memo) is "sealed": one header line naming the format, the
// byte length and the SHA-256 of the content, then the content itself:
//
//   #gitops-cache v1 bytes=19234 sha256=<64 hex digits>\n<content>
//
// A reader gets the content back only when the header is well formed, the length matches exactly and the
// digest matches; anything else (truncated, extended, edited, an entry of an older format, not UTF-8 text)
// reads as absent, so the caller builds or computes it again and overwrites the damaged file.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const MAGIC = '#gitops-cache v1';
const HEADER = /^#gitops-cache v1 bytes=(0|[1-9]\d{0,12}) sha256=([0-9a-f]{64})$/;
const NEWLINE = 0x0a;

/** The sealed bytes of `content`: header line + UTF-8 content. */
export function sealEntry(content: string): Buffer {
  const body = Buffer.from(content, 'utf8');
  const digest = createHash('sha256').update(body).digest('hex');
  return Buffer.concat([Buffer.from(`${MAGIC} bytes=${body.length} sha256=${digest}\n`, 'utf8'), body]);
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** The content of sealed bytes, or undefined when they are damaged in any way. */
export function openEntry(bytes: Uint8Array): string | undefined {
  const end = bytes.indexOf(NEWLINE);
  if (end === -1 || end > 120) return undefined;
  const match = HEADER.exec(Buffer.from(bytes.buffer, bytes.byteOffset, end).toString('latin1'));
  if (!match) return undefined;
  const body = bytes.subarray(end + 1);
  if (body.length !== Number(match[1])) return undefined;
  if (createHash('sha256').update(body).digest('hex') !== match[2]) return undefined;
  try {
    return decoder.decode(body);
  } catch {
    return undefined;
  }
}

/** Reads a sealed entry: its content, or undefined when it is missing, unreadable or damaged. */
export function readEntry(file: string): string | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    return undefined;
  }
  return openEntry(bytes);
}

/** Writes a sealed entry atomically (temporary file in the same directory, then rename). */
export function writeEntry(file: string, content: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(tmp, sealEntry(content));
  renameSync(tmp, file);
}
