// The few fengari (Lua 5.3 VM in JavaScript) entry points the health-check tests use; it ships no types.
declare module 'fengari' {
  type LuaState = { readonly __luaState: unique symbol };
  type LuaString = Uint8Array;
  const fengari: {
    to_luastring(s: string): LuaString;
    to_jsstring(s: LuaString): string;
    lua: {
      LUA_OK: number;
      LUA_TTABLE: number;
      lua_pushnil(L: LuaState): void;
      lua_pushboolean(L: LuaState, b: boolean): void;
      lua_pushinteger(L: LuaState, n: number): void;
      lua_pushnumber(L: LuaState, n: number): void;
      lua_pushstring(L: LuaState, s: LuaString): void;
      lua_newtable(L: LuaState): void;
      lua_setfield(L: LuaState, index: number, k: LuaString): void;
      lua_rawseti(L: LuaState, index: number, i: number): void;
      lua_setglobal(L: LuaState, name: LuaString): void;
      lua_getfield(L: LuaState, index: number, k: LuaString): number;
      lua_type(L: LuaState, index: number): number;
      lua_tojsstring(L: LuaState, index: number): string | null;
      lua_pcall(L: LuaState, nargs: number, nresults: number, msgh: number): number;
      lua_pop(L: LuaState, n: number): void;
    };
    lauxlib: {
      luaL_newstate(): LuaState;
      luaL_loadstring(L: LuaState, s: LuaString): number;
    };
    lualib: { luaL_openlibs(L: LuaState): void };
  };
  export default fengari;
}
