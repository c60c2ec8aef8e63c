// Signatures enforced in the cluster (Kyverno ClusterPolicy, scripts/lib/generate/image-policy.ts):
// the committed policy is accepted by the real API server's dry run against a structural CRD built from
// Kyverno v1.19.0's schema (test/support/kyverno.ts), and its match rules — image globs, identities,
// issuer, namespace selection — decide as Kyverno's documented semantics do, checked by a small evaluator
// (no Kyverno package or binary exists here; signatures are given as data, not verified cryptographically).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../scripts/lib/cluster/kube/client.ts';
import { parseYamlStream } from '../../scripts/lib/core/yaml.ts';
import { IMAGE_POLICY_FILE, imageClusterPolicy, imagesOf, pullRequestSubjectRegExp, releaseSubjectRegExp } from '../../scripts/lib/generate/image-policy.ts';
import { previewManagedNamespaceMetadata } from '../../scripts/lib/generate/previews.ts';
import type { RepoSettings } from '../../scripts/lib/inputs/spec.ts';
import { describeEnvtest, useEnvtest } from '../support/envtest/index.ts';
import type { Envtest } from '../support/envtest/index.ts';
import { clusterPolicyCrd, evaluate, wildcardMatch } from '../support/kyverno.ts';
import type { Namespace, Signature } from '../support/kyverno.ts';
import { REPO, asStream, must } from '../cluster/real.ts';

const policy = parseYamlStream(readFileSync(join(REPO, IMAGE_POLICY_FILE), 'utf8'))[0] as KubeObject;
const ISSUER = 'https://token.actions.githubusercontent.com';
const WF = 'https://github.com/example-org/gitops-users/.github/workflows/release.yml';
const RELEASE = 'ghcr.io/example-org/users-api';
const PREVIEW = 'ghcr.io/example-org/users-api-previews';
const prod: Namespace = { name: 'prod', labels: { environment: 'prod' } };
const pr7: Namespace = { name: 'pr-7', labels: previewManagedNamespaceMetadata(7).labels };
const pod = (...images: string[]) => ({ spec: { containers: images.map((image) => ({ image })) } });
const signed = (subject: string, issuer = ISSUER): Signature[] => [{ subject, issuer }];

describe('image signature policy, evaluated offline with Kyverno v1.19.0 semantics', () => {
  it('admits in prod the release image signed by the release workflow on main or an exact vX.Y.Z tag', () => {
    for (const ref of ['refs/heads/main', 'refs/tags/v1.2.3']) {
      const img = `${RELEASE}:1.2.3`;
      expect(evaluate(policy, prod, pod(img), { [img]: signed(`${WF}@${ref}`) }), ref).toEqual({ allowed: true, reasons: [] });
    }
    const byDigest = `${RELEASE}@sha256:${'a'.repeat(64)}`;
    expect(evaluate(policy, prod, pod(byDigest), { [byDigest]: signed(`${WF}@refs/heads/main`) }).allowed).toBe(true);
  });

  it('refuses in prod an unsigned image, and one signed by any other identity or issuer', () => {
    const img = `${RELEASE}:1.2.3`;
    expect(evaluate(policy, prod, pod(img), {})).toEqual({ allowed: false, reasons: [`environments-release-signature: failed to verify image ${img}: no signature matches the attestors`] });
    for (const subject of [
      `${WF}@refs/tags/v1.2.3-rc1`, // not an exact vX.Y.Z tag
      `${WF}@refs/heads/feature`,
      `${WF}@refs/pull/12/merge`, // a pull request build
      'https://github.com/example-org/gitops-users/.github/workflows/other.yml@refs/heads/main',
      'https://github.com/evil/gitops-users/.github/workflows/release.yml@refs/heads/main',
      `x${WF}@refs/heads/main`, // the regexp is anchored (Go's MatchString is not)
    ]) expect(evaluate(policy, prod, pod(img), { [img]: signed(subject) }).allowed, subject).toBe(false);
    expect(evaluate(policy, prod, pod(img), { [img]: signed(`${WF}@refs/heads/main`, 'https://accounts.google.com') }).allowed).toBe(false);
  });

  it('refuses a pull request build in an environment even when signed, and any foreign image; admits the operator images', () => {
    const pr = `${PREVIEW}:sha-abcdef1`;
    const v = evaluate(policy, prod, pod(pr), { [pr]: signed(`${WF}@refs/pull/12/merge`) });
    expect(v.allowed).toBe(false);
    expect(v.reasons.join('\n')).toMatch(/environments-only-release-images: an environment runs only ghcr\.io\/example-org\/users-api .*never a pull request build/);
    expect(evaluate(policy, prod, pod('docker.io/library/busybox:1.36'), {}).allowed).toBe(false);
    expect(evaluate(policy, prod, pod('quay.io/mongodb/mongodb-community-server:8.0.32-ubi9'), {}).allowed).toBe(true);
  });

  it('in a preview namespace admits only the preview repository signed by the pull request build', () => {
    const pr = `${PREVIEW}:sha-abcdef1`;
    expect(evaluate(policy, pr7, pod(pr), { [pr]: signed(`${WF}@refs/pull/7/merge`) })).toEqual({ allowed: true, reasons: [] });
    expect(evaluate(policy, pr7, pod(pr), {}).allowed).toBe(false);
    expect(evaluate(policy, pr7, pod(pr), { [pr]: signed(`${WF}@refs/heads/feature`) }).allowed).toBe(false);
    // The release image is not a preview's, signed or not.
    const rel = `${RELEASE}:1.2.3`;
    expect(evaluate(policy, pr7, pod(rel), { [rel]: signed(`${WF}@refs/heads/main`) }).reasons.join('\n')).toMatch(/previews-only-preview-images/);
  });

  it('selects preview namespaces by the marker label only, environments by name', () => {
    const unmarked: Namespace = { name: 'pr-8', labels: {} };
    expect(evaluate(policy, unmarked, pod('docker.io/library/busybox:1.36'), {}).allowed).toBe(true); // the namespace policy (VAP) forbids such a pr-* namespace
    expect(evaluate(policy, { name: 'kube-system', labels: {} }, pod('docker.io/library/busybox:1.36'), {}).allowed).toBe(true);
  });

  it('uses globs that keep the two repositories apart (Kyverno wildcards: * also matches "/")', () => {
    expect(wildcardMatch(`${RELEASE}:*`, `${PREVIEW}:x`)).toBe(false);
    expect(wildcardMatch(`${RELEASE}:*`, `${RELEASE}:x/y`)).toBe(true);
    expect(wildcardMatch('a?c', 'ac')).toBe(false);
  });

  it('is generated from gitops.yaml: identities from repoURL, the pinned images of the manifests admitted as they are', () => {
    const settings = { repoURL: 'https://github.com/o/r.git', image: 'ghcr.io/o/api', previews: { image: 'ghcr.io/o/api-pr' } } as unknown as RepoSettings;
    expect(releaseSubjectRegExp(settings)).toBe('^https://github\\.com/o/r/\\.github/workflows/release\\.yml@refs/(heads/main|tags/v[0-9]+\\.[0-9]+\\.[0-9]+)$');
    expect(pullRequestSubjectRegExp(settings)).toBe('^https://github\\.com/o/r/\\.github/workflows/release\\.yml@refs/pull/[0-9]+/merge$');
    const job = { kind: 'Job', spec: { template: { spec: { containers: [{ image: 'docker.io/library/node@sha256:1' }, { image: 'ghcr.io/o/api:1' }] } } } };
    expect(imagesOf([job])).toEqual(['docker.io/library/node@sha256:1', 'ghcr.io/o/api:1']);
    const p = imageClusterPolicy(settings, ['dev'], ['docker.io/library/node@sha256:1']) as KubeObject;
    expect(evaluate(p, { name: 'dev', labels: {} }, pod('docker.io/library/node@sha256:1'), {}).allowed).toBe(true);
    expect(evaluate(p, { name: 'dev', labels: {} }, pod('docker.io/library/node@sha256:2'), {}).allowed).toBe(false);
  });
});

describeEnvtest('image signature policy on the real API server', () => {
  let env: Envtest;
  beforeAll(async () => {
    env = await useEnvtest();
    await must(env, ['apply', '--server-side', '--field-manager=envtest', '-f', '-'], asStream([clusterPolicyCrd()]));
    await must(env, ['wait', '--for=condition=Established', 'crd/clusterpolicies.kyverno.io', '--timeout=120s']);
  });

  it('the committed ClusterPolicy passes a strict server-side dry run against Kyverno v1.19.0\'s schema (structural subset)', async () => {
    const r = await env.kubectl(['apply', '--server-side', '--field-manager=argocd-controller', '--dry-run=server', '--validate=strict', '-f', '-'], { input: asStream([policy]) });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('a misspelt field or a wrong enum value is refused', async () => {
    const bad = structuredClone(policy) as unknown as { spec: { rules: Array<Record<string, unknown> & { verifyImages?: Array<Record<string, unknown>> }> } };
    bad.spec.rules[0]!.verifyImages![0]!.imageReference = ['x'];
    const r = await env.kubectl(['apply', '--server-side', '--dry-run=server', '--validate=strict', '-f', '-'], { input: asStream([bad]) });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/imageReference/);
    const enumBad = structuredClone(policy) as unknown as { spec: { failurePolicy: string } };
    enumBad.spec.failurePolicy = 'Deny';
    const e = await env.kubectl(['apply', '--server-side', '--dry-run=server', '--validate=strict', '-f', '-'], { input: asStream([enumBad]) });
    expect(e.code).not.toBe(0);
    expect(e.stderr).toMatch(/failurePolicy/);
  });
});
