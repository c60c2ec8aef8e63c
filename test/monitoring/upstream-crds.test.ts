// The opt-in source of the dry run's CRDs (PROMETHEUS_OPERATOR_CRDS, test/support/prometheus-operator-crds.ts):
// files of another prometheus-operator release, or missing files, are refused with the reason, never used.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { upstreamCrds } from '../support/prometheus-operator-crds.ts';

const dir = mkdtempSync(join(tmpdir(), 'po-crds-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Stand-ins with only the metadata the loader reads (not upstream's files).
const standIn = (plural: string, version: string) =>
  `apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  annotations:\n    operator.prometheus.io/version: ${version}\n  name: ${plural}.monitoring.coreos.com\n`;

describe('PROMETHEUS_OPERATOR_CRDS', () => {
  it('a missing file is an error naming it and where it comes from', () => {
    expect(() => upstreamCrds(dir)).toThrow(/monitoring\.coreos\.com_servicemonitors\.yaml is missing; copy it from prometheus-operator v0\.93\.0 example\/prometheus-operator-crd\//);
  });

  it('CRDs of another release are refused; the pinned release\'s are returned as they are', () => {
    writeFileSync(join(dir, 'monitoring.coreos.com_servicemonitors.yaml'), standIn('servicemonitors', '0.92.0'));
    writeFileSync(join(dir, 'monitoring.coreos.com_prometheusrules.yaml'), standIn('prometheusrules', '0.93.0'));
    expect(() => upstreamCrds(dir)).toThrow(/operator\.prometheus\.io\/version is 0\.92\.0, the generated objects are written against v0\.93\.0/);
    writeFileSync(join(dir, 'monitoring.coreos.com_servicemonitors.yaml'), standIn('servicemonitors', '0.93.0'));
    expect(upstreamCrds(dir).map((c) => (c as { metadata: { name: string } }).metadata.name)).toEqual(['servicemonitors.monitoring.coreos.com', 'prometheusrules.monitoring.coreos.com']);
  });
});
