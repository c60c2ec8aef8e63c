// The generated Roles, proven rather than assumed: for every RoleBinding an environment renders, act as
// its ServiceAccount (a token from the TokenRequest API) and ask the real API server, through
// SelfSubjectAccessReview, about every verb × resource × name: allowed exactly where a rule of its
// Role allows it, denied everywhere else (other verbs, other kinds, other names, other namespaces).
// Then one real request each way.
import { beforeAll, expect, it } from 'vitest';
import type { KubeObject } from '../../scripts/lib/cluster/kube/client.ts';
import { describeEnvtest, uniqueName, useEnvtest } from '../support/envtest/index.ts';
import type { Envtest } from '../support/envtest/index.ts';
import { ENVIRONMENT_NAMES } from './real-envs.ts';
import { asStream, intoNamespace, kubeOf, must, renderEnv } from './real.ts';

interface Rule { apiGroups?: string[]; resources?: string[]; verbs?: string[]; resourceNames?: string[] }

const VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];
const RESOURCES = ['secrets', 'pods', 'configmaps', 'serviceaccounts', 'roles'];

function allows(rules: readonly Rule[], verb: string, resource: string, name: string | undefined): boolean {
  return rules.some((r) =>
    (r.apiGroups ?? []).some((g) => g === '' || g === '*') &&
    (r.resources ?? []).some((x) => x === resource || x === '*') &&
    (r.verbs ?? []).some((v) => v === verb || v === '*') &&
    (!r.resourceNames?.length || (name !== undefined && r.resourceNames.includes(name))));
}

describeEnvtest('the generated Roles on the real API server', () => {
  let env: Envtest;
  beforeAll(async () => {
    env = await useEnvtest();
  });

  for (const name of ENVIRONMENT_NAMES) {
    it(`overlays/${name}: each ServiceAccount can do what its Role says and nothing more (kube-apiserver v1.28)`, async () => {
      const ns = uniqueName(`roles-${name}`);
      const other = `${ns}-other`;
      await must(env, ['create', 'namespace', ns]);
      await must(env, ['create', 'namespace', other]);
      const objects = intoNamespace(renderEnv(name), name, ns);
      const rbac = objects.filter((o) => ['ServiceAccount', 'Role', 'RoleBinding'].includes(o.kind));
      await must(env, ['apply', '--server-side', '--field-manager=argocd-controller', '-f', '-'], asStream(rbac));
      const bindings = rbac.filter((o) => o.kind === 'RoleBinding') as Array<KubeObject & { roleRef: { kind: string; name: string }; subjects: Array<{ kind: string; name: string; namespace?: string }> }>;
      expect(bindings.length).toBeGreaterThan(0);
      for (const binding of bindings) {
        const role = rbac.find((o) => o.kind === 'Role' && o.metadata.name === binding.roleRef.name) as (KubeObject & { rules: Rule[] }) | undefined;
        expect(role, `${binding.metadata.name} → Role ${binding.roleRef.name}`).toBeDefined();
        for (const subject of binding.subjects.filter((s) => s.kind === 'ServiceAccount')) {
          const token = await env.serviceAccountToken(subject.namespace ?? ns, subject.name);
          const asSa = kubeOf(env, { kubeconfigPath: env.kubeconfigForToken(token) });
          const names = [undefined, 'some-other-name', ...new Set(role!.rules.flatMap((r) => r.resourceNames ?? []))];
          const wrong: string[] = [];
          let allowedCount = 0;
          // Every question at once: the server answers them concurrently.
          const questions: Array<Promise<void>> = [];
          for (const verb of VERBS) {
            for (const resource of RESOURCES) {
              for (const objName of names) {
                const want = allows(role!.rules, verb, resource, objName);
                questions.push(asSa.canI({ verb, group: '', resource, namespace: ns, name: objName }).then(({ allowed }) => {
                  if (allowed !== want) wrong.push(`${verb} ${resource}${objName ? `/${objName}` : ''}: server says ${allowed}, Role says ${want}`);
                  if (allowed) allowedCount++;
                }));
              }
              // Never anything in another namespace.
              questions.push(asSa.canI({ verb, group: '', resource, namespace: other }).then(({ allowed }) => {
                if (allowed) wrong.push(`${verb} ${resource} in another namespace is allowed`);
              }));
            }
          }
          await Promise.all(questions);
          expect(wrong, `ServiceAccount ${subject.name}`).toEqual([]);
          expect(allowedCount, `ServiceAccount ${subject.name} can do something`).toBeGreaterThan(0);
          // Real requests: one that its Role allows is not refused for RBAC, one it does not is.
          const denied = await env.kubectl(['--kubeconfig', env.kubeconfigForToken(token), '-n', ns, 'delete', 'configmap', 'anything']);
          expect(denied.stderr).toContain(`User "system:serviceaccount:${ns}:${subject.name}" cannot delete resource "configmaps"`);
        }
      }
    });
  }
});
