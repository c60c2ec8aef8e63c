import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { APPLICATION_HEALTH } from '../../scripts/lib/cluster/bootstrap/health-checks.ts';

// Runs argocd/health/application.lua the way Argo CD does (global `obj`, the script's return value
// is the health) with the system Lua; skipped where no Lua interpreter is installed.
const REPO = resolve(import.meta.dirname, '../..');
const lua = ['lua', 'lua5.1', 'lua5.4'].find((bin) => spawnSync(bin, ['-v']).status === 0);

function luaLiteral(v: unknown): string {
  if (v === null || v === undefined) return 'nil';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `{${v.map(luaLiteral).join(', ')}}`;
  return `{${Object.entries(v as Record<string, unknown>).map(([k, x]) => `[${JSON.stringify(k)}] = ${luaLiteral(x)}`).join(', ')}}`;
}

function health(obj: unknown): { status: string; message: string } {
  const script = readFileSync(resolve(REPO, APPLICATION_HEALTH.luaPath), 'utf8');
  const program = `obj = ${luaLiteral(obj)}\nlocal check = loadstring or load\nlocal hs = assert(check(${JSON.stringify(script)}))()\nio.write(hs.status, "\\n", hs.message or "")`;
  const r = spawnSync(lua!, ['-'], { input: program, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  const [status, message] = r.stdout.split('\n');
  return { status: status!, message: message ?? '' };
}

describe.skipIf(!lua)('Application health check (argocd/health/application.lua)', () => {
  it.each([
    ['a child that has not reported yet is Progressing', { metadata: { name: 'prod-users-api' } }, 'Progressing'],
    ['a Healthy child is Healthy', { status: { health: { status: 'Healthy' } } }, 'Healthy'],
    ['a Degraded child is Degraded, with its message', { status: { health: { status: 'Degraded', message: 'back-off pulling image' } } }, 'Degraded'],
    ['a child still syncing is Progressing even if its resources look healthy', { status: { health: { status: 'Healthy' }, operationState: { phase: 'Running' } } }, 'Progressing'],
  ])('%s', (_name, obj, expected) => {
    const result = health(obj);
    expect(result.status).toBe(expected);
    if (expected === 'Degraded') expect(result.message).toBe('back-off pulling image');
  });
});
