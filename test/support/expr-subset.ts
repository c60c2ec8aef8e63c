// An exact evaluator for the subset of expr-lang (argo-cd@v3.5.1 go.mod: github.com/expr-lang/expr v1.17.8)
// that scripts/lib/cluster/bootstrap/notifications.ts writes in trigger conditions:
//   cond   := term ( ' and ' term )*
//   term   := path ' == ' string | path ' in ' '[' string ( ', ' string )* ']'
//   path   := 'app' ( '.' ident | '?.' ident )*        string := '\'' [^']* '\''
// Semantics as expr-lang's (docs/language-definition.md): `?.` yields nil on a nil operand; `.` on nil
// is a runtime error (hence the triggers' `app.status?.…`); a missing map key is nil; `==` of nil and a
// string is false; `in` is membership. Anything outside the subset is refused, so a trigger that drifts
// from it fails the test instead of being evaluated wrongly.
export class ExprError extends Error {}

const TERM = /^(app(?:(?:\.|\?\.)[A-Za-z_][A-Za-z0-9_]*)*) (==|in) (.+)$/;
const STRING = /^'([^']*)'$/;

function resolve(path: string, env: Record<string, unknown>): unknown {
  const parts = path.match(/(\?\.|\.)?[A-Za-z_][A-Za-z0-9_]*/g)!;
  let value: unknown = env[parts[0]!];
  for (const p of parts.slice(1)) {
    const safe = p.startsWith('?.');
    const key = p.replace(/^\??\./, '');
    if (value === undefined || value === null) {
      if (safe) return undefined;
      throw new ExprError(`cannot fetch ${key} from <nil> (${path})`);
    }
    if (typeof value !== 'object') throw new ExprError(`cannot fetch ${key} from ${typeof value}`);
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function strings(list: string): string[] {
  const m = /^\[(.*)\]$/.exec(list);
  if (!m) throw new ExprError(`not a list of strings: ${list}`);
  return m[1]!.split(', ').map((s) => {
    const q = STRING.exec(s);
    if (!q) throw new ExprError(`not a string literal: ${s}`);
    return q[1]!;
  });
}

export function evalCondition(cond: string, env: Record<string, unknown>): boolean {
  return cond.split(' and ').every((term) => {
    const m = TERM.exec(term.trim());
    if (!m) throw new ExprError(`outside the evaluated subset: ${term}`);
    const value = resolve(m[1]!, env);
    if (m[2] === '==') {
      const q = STRING.exec(m[3]!);
      if (!q) throw new ExprError(`not a string literal: ${m[3]}`);
      return value === q[1];
    }
    return typeof value === 'string' && strings(m[3]!).includes(value);
  });
}
