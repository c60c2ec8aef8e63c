// Runs an Argo CD health-check script the way Argo CD does: the live object as the global `obj`, the
// chunk's return value read as { status, message }. fengari is Lua 5.3 while Argo CD's gopher-lua is
// Lua 5.1, so the script sticks to the common subset (checked separately in health.test.ts).
import { execFileSync, spawnSync } from 'node:child_process';
import fengari from 'fengari';

const { lua, lauxlib, lualib, to_luastring } = fengari;
type State = ReturnType<typeof lauxlib.luaL_newstate>;

function push(L: State, value: unknown): void {
  if (value === null || value === undefined) lua.lua_pushnil(L);
  else if (typeof value === 'boolean') lua.lua_pushboolean(L, value);
  else if (typeof value === 'number') {
    if (Number.isInteger(value)) lua.lua_pushinteger(L, value);
    else lua.lua_pushnumber(L, value);
  } else if (typeof value === 'string') lua.lua_pushstring(L, to_luastring(value));
  else if (Array.isArray(value)) {
    lua.lua_newtable(L);
    value.forEach((v, i) => {
      push(L, v);
      lua.lua_rawseti(L, -2, i + 1);
    });
  } else if (typeof value === 'object') {
    lua.lua_newtable(L);
    for (const [k, v] of Object.entries(value)) {
      push(L, v);
      lua.lua_setfield(L, -2, to_luastring(k));
    }
  } else throw new Error(`cannot pass ${typeof value} to Lua`);
}

export interface HealthResult {
  status: string | null;
  message: string | null;
}

export function runHealthCheck(script: string, obj: unknown): HealthResult {
  const L = lauxlib.luaL_newstate();
  lualib.luaL_openlibs(L);
  // Argo CD's sandbox has no os, io or package: a script relying on them must fail here too.
  for (const lib of ['os', 'io', 'package', 'require', 'dofile', 'loadfile', 'debug']) {
    lua.lua_pushnil(L);
    lua.lua_setglobal(L, to_luastring(lib));
  }
  push(L, obj);
  lua.lua_setglobal(L, to_luastring('obj'));
  if (lauxlib.luaL_loadstring(L, to_luastring(script)) !== lua.LUA_OK) {
    throw new Error(`Lua syntax error: ${lua.lua_tojsstring(L, -1)}`);
  }
  if (lua.lua_pcall(L, 0, 1, 0) !== lua.LUA_OK) {
    throw new Error(`Lua runtime error: ${lua.lua_tojsstring(L, -1)}`);
  }
  if (lua.lua_type(L, -1) !== lua.LUA_TTABLE) throw new Error('the health check did not return a table');
  lua.lua_getfield(L, -1, to_luastring('status'));
  const status = lua.lua_tojsstring(L, -1);
  lua.lua_pop(L, 1);
  lua.lua_getfield(L, -1, to_luastring('message'));
  const message = lua.lua_tojsstring(L, -1);
  lua.lua_pop(L, 1);
  return { status, message };
}

/** A Lua 5.1 table constructor for a JSON-like value. */
function luaLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'nil';
  if (typeof value === 'boolean' || typeof value === 'number') return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `{${value.map(luaLiteral).join(', ')}}`;
  return `{${Object.entries(value as object).map(([k, v]) => `[${JSON.stringify(k)}] = ${luaLiteral(v)}`).join(', ')}}`;
}

/** `lua5.1` on PATH (Debian package lua5.1), the same dialect as Argo CD's gopher-lua; undefined if absent. */
export const LUA51: string | undefined = spawnSync('lua5.1', ['-v']).status === 0 ? 'lua5.1' : undefined;

/** Runs the script in the real Lua 5.1 interpreter, the chunk wrapped in a function as Argo CD does. */
export function runHealthCheckLua51(script: string, obj: unknown): HealthResult {
  if (!LUA51) throw new Error('lua5.1 is not installed');
  const program = [
    'os, io, package, require, dofile, loadfile, debug = nil, nil, nil, nil, nil, nil, nil',
    `obj = ${luaLiteral(obj)}`,
    `local hs = (function()\n${script}\nend)()`,
    'print(hs.status)',
    'print(hs.message)',
  ].join('\n');
  const out = execFileSync(LUA51, ['-'], { input: program, encoding: 'utf8' }).split('\n');
  return { status: out[0] ?? null, message: out[1] ?? null };
}
