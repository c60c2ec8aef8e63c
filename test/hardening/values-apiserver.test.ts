// The quantity rules and the ConfigMap limit of scripts/lib (quantity.ts, inputs/rules.ts) against the real
// API server: what the toolkit refuses, kube-apiserver v1.28 refuses or silently changes; what it
// accepts, the server stores with the same value; and the parser reads the server's own canonical forms
// as the same numbers.
import { beforeAll, expect, it } from 'vitest';
import { configMapSizeProblem, CONFIGMAP_DATA_MAX_BYTES } from '../../scripts/lib/inputs/rules.ts';
import { validateEnvSpec } from '../../scripts/lib/inputs/schema.ts';
import { compareQuantities, isQuantity, parseQuantity, quantityRangeProblem, type Quantity } from '../../scripts/lib/core/quantity.ts';
import { describeEnvtest, uniqueName, useEnvtest, type Envtest } from '../support/envtest/index.ts';
import { committedSettings } from '../generator/support.ts';

let env: Envtest;
let ns: string;

function pod(name: string, resources: { requests?: Record<string, string>; limits?: Record<string, string> }): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns },
    spec: { containers: [{ name: 'c', image: 'registry.example.com/x:1', resources }] },
  });
}
async function dryRun(manifest: string): Promise<{ code: number; object?: any; stderr: string }> {
  const r = await env.kubectl(['create', '--dry-run=server', '-o', 'json', '-f', '-'], { input: manifest });
  return { code: r.code, object: r.code === 0 ? JSON.parse(r.stdout) : undefined, stderr: r.stderr };
}
function q(text: string): Quantity {
  const p = parseQuantity(text);
  if (!isQuantity(p)) throw new Error(p.error);
  return p;
}
const spec = (): any => ({ namespace: 'qa', ...structuredClone(committedSettings().defaults) });

describeEnvtest('values the API server refuses or changes', () => {
  beforeAll(async () => {
    env = await useEnvtest();
    ns = uniqueName('values');
    const r = await env.kubectl(['create', 'namespace', ns]);
    expect(r.stderr).toBe('');
  });

  it('a memory request above its limit: the server refuses the pod, and so does env.yaml validation', async () => {
    const r = await dryRun(pod('over', { requests: { memory: '193Mi' }, limits: { memory: '192Mi' } }));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/must be less than or equal to memory limit/);
    const d = spec();
    d.resources.requests.memory = '193Mi';
    expect(validateEnvSpec('qa', 'overlays/qa/env.yaml', d).problems.map((p) => p.path)).toEqual(['/resources/requests/memory']);
  });

  it('a memory limit of 0Mi under the default request: the server refuses it, and so does env.yaml validation', async () => {
    const r = await dryRun(pod('zero', { requests: { memory: '96Mi' }, limits: { memory: '0Mi' } }));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/must be less than or equal to memory limit/);
    const d = spec();
    d.resources.limits.memory = '0Mi';
    expect(validateEnvSpec('qa', 'overlays/qa/env.yaml', d).problems.map((p) => p.path)).toContain('/resources/limits/memory');
  });

  it('storage 0Gi: the server refuses the PersistentVolumeClaim', async () => {
    const r = await dryRun(JSON.stringify({
      apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data', namespace: ns },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '0Gi' } } },
    }));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/storage.*must be greater than zero/);
    expect(quantityRangeProblem(q('0Gi'))).toMatch(/zero/);
  });

  it('99999999999999999999999Ti: the server accepts it but stores another number (capped at 2^63-1), so the toolkit refuses it', async () => {
    const r = await dryRun(pod('huge', { limits: { memory: '99999999999999999999999Ti' } }));
    expect(r.code, r.stderr).toBe(0);
    const stored = r.object.spec.containers[0].resources.limits.memory as string;
    expect(compareQuantities(q(stored), q('99999999999999999999999Ti'))).toBe(-1);
    expect(compareQuantities(q(stored), q(String((1n << 63n) - 1n)))).toBe(0);
    expect(quantityRangeProblem(q('99999999999999999999999Ti'))).toMatch(/larger than/);
  });

  it.each(['1.5Gi', '1536Mi', '100m', '0.5', '1e3', '2k', '1.5e+2', '1m', '250M', '512Mi', '20Gi', '9223372036854775'])(
    'in range, %s is stored with exactly the value the parser reads',
    async (text) => {
      expect(quantityRangeProblem(q(text))).toBeUndefined();
      const r = await dryRun(pod(`ok-${Math.random().toString(36).slice(2, 8)}`, { requests: { cpu: text }, limits: { cpu: text } }));
      expect(r.code, r.stderr).toBe(0);
      const stored = r.object.spec.containers[0].resources.limits.cpu as string;
      expect(compareQuantities(q(stored), q(text))).toBe(0);
    },
  );

  it('5n: the server rounds a resource value up to 1m, so the toolkit refuses values finer than 1m', async () => {
    const r = await dryRun(pod('nano', { requests: { cpu: '5n' }, limits: { cpu: '5n' } }));
    expect(r.code, r.stderr).toBe(0);
    expect(r.object.spec.containers[0].resources.limits.cpu).toBe('1m');
    expect(quantityRangeProblem(q('5n'))).toMatch(/finer than 1m/);
  });

  it('"Gi": the server reads a missing number as 0; the toolkit refuses it as no quantity at all', async () => {
    const r = await dryRun(pod('nothing', { limits: { memory: 'Gi' } }));
    expect(r.code, r.stderr).toBe(0);
    expect(r.object.spec.containers[0].resources.limits.memory).toBe('0');
    expect(isQuantity(parseQuantity('Gi'))).toBe(false);
  });

  it.each(['1K', '1 Gi', '1e', '1Ki3', '0x10', '1,5Gi', '1gi'])('%j: the parser and the server both refuse it', async (text) => {
    expect(isQuantity(parseQuantity(text))).toBe(false);
    const r = await dryRun(pod(`bad-${Math.random().toString(36).slice(2, 8)}`, { limits: { memory: text } }));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/quantit/i);
  });

  it('a ConfigMap of 1 MiB of values is stored; one byte more is refused, as the .env check says', async () => {
    const cm = (bytes: number) => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${bytes}`, namespace: ns }, data: { HOST: 'a'.repeat(bytes - 4), LOG: 'info' } });
    const ok = await dryRun(cm(CONFIGMAP_DATA_MAX_BYTES));
    expect(ok.code, ok.stderr).toBe(0);
    expect(configMapSizeProblem('overlays/qa/.env', { HOST: 'a'.repeat(CONFIGMAP_DATA_MAX_BYTES - 4), LOG: 'info' })).toBeUndefined();
    const over = await dryRun(cm(CONFIGMAP_DATA_MAX_BYTES + 1));
    expect(over.code).not.toBe(0);
    expect(over.stderr).toMatch(/1048576/);
    expect(configMapSizeProblem('overlays/qa/.env', { HOST: 'a'.repeat(CONFIGMAP_DATA_MAX_BYTES - 3), LOG: 'info' })?.message).toMatch(/1048577 bytes/);
  });
});
