import { describe, expect, it } from 'vitest';
import { containsDesired } from '../../scripts/lib/cluster/kube/compare.ts';

// The check that lets a second bootstrap only read: does the live object already say what we apply?
describe('containsDesired', () => {
  it.each([
    ['fields the server added are ignored', { a: 1, status: { x: 1 }, spec: { b: 'x', defaulted: true } }, { a: 1, spec: { b: 'x' } }, true],
    ['a different value is a change', { spec: { image: 'a:1' } }, { spec: { image: 'a:2' } }, false],
    ['a missing field is a change', { spec: {} }, { spec: { replicas: 2 } }, false],
    ['lists compare element by element', { ports: [{ port: 80, protocol: 'TCP' }] }, { ports: [{ port: 80 }] }, true],
    ['a list of another length is a change', { args: ['a', 'b'] }, { args: ['a'] }, false],
    ['an empty map the server dropped is no change', { spec: {} }, { spec: { resources: {} } }, true],
    ['an int-or-string written as a number matches its string form', { targetPort: '8080' }, { targetPort: 8080 }, true],
  ])('%s', (_name, live, desired, expected) => {
    expect(containsDesired(live, desired)).toBe(expected);
  });
});
