import { describe, expect, it } from 'vitest';
import { canonicalize, generatedHeader, isGenerated, parseYamlStream, toYaml, toYamlStream } from '../../scripts/lib/core/yaml.ts';

describe('the YAML serializer', () => {
  it('puts apiVersion, kind, metadata first and sorts every other key', () => {
    const text = toYaml({ spec: { b: 1, a: 2 }, metadata: { labels: { z: 'z', a: 'a' }, name: 'x' }, kind: 'Service', apiVersion: 'v1' });
    expect(text).toBe(
      'apiVersion: v1\nkind: Service\nmetadata:\n  name: x\n  labels:\n    a: a\n    z: z\nspec:\n  a: 2\n  b: 1\n',
    );
  });

  it('gives the same bytes whatever order the keys were built in', () => {
    const a = toYaml({ x: 1, y: { q: [1, 2], p: 'v' } });
    const b = toYaml({ y: { p: 'v', q: [1, 2] }, x: 1 });
    expect(a).toBe(b);
  });

  it('drops null and undefined members but keeps list order', () => {
    expect(canonicalize({ a: null, b: undefined, c: [3, null, 1] })).toEqual({ c: [3, 1] });
  });

  it.each(['on', 'off', 'yes', 'no', 'y', 'n', 'true', '8080', '0x1F', '1e3', '~', ''])(
    'quotes the string %j so Kustomize (YAML 1.1) reads it back as a string',
    (value) => {
      const text = toYaml({ value });
      expect(text).not.toBe(`value: ${value}\n`);
      expect(parseYamlStream(text)).toEqual([{ value }]);
    },
  );

  it('never folds long lines', () => {
    const long = 'x '.repeat(200).trim();
    expect(toYaml({ long }).split('\n')).toHaveLength(2);
  });

  it('joins documents with --- and reads them back', () => {
    const stream = toYamlStream([{ a: 1 }, { b: 2 }]);
    expect(stream).toBe('a: 1\n---\nb: 2\n');
    expect(parseYamlStream(stream)).toEqual([{ a: 1 }, { b: 2 }]);
  });

  it('reports a syntax error with its position', () => {
    expect(() => parseYamlStream('a: [1, 2\nb: 3\n')).toThrow(/line|col/i);
  });

  it('marks generated files with a header naming their sources in sorted order', () => {
    const header = generatedHeader(['overlays/dev/env.yaml', 'gitops.yaml']);
    expect(header).toContain('from gitops.yaml, overlays/dev/env.yaml');
    expect(isGenerated(header + 'a: 1\n')).toBe(true);
    expect(isGenerated('a: 1\n')).toBe(false);
  });
});
