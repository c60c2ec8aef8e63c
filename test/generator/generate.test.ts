// The generator is a pure function of the inputs: snapshot the rendered strings, then assert the fields
// users and reviewers rely on.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { HTTP_PORT, PATHS, RUN_AS_USER } from '../../apps/users-api/src/contract.ts';
import { rootInclude } from '../../scripts/lib/generate/argocd.ts';
import { generateRepo } from '../../scripts/lib/generate/index.ts';
import { literalInclude } from '../../scripts/lib/review/validate/argocd-files.ts';
import { MONGODB } from '../../scripts/lib/inputs/spec.ts';
import { GENERATED_HEADER_PREFIX } from '../../scripts/lib/core/yaml.ts';
import { inputsWith } from './support.ts';

const read = (files: Record<string, string>, path: string): any => {
  const text = files[path];
  if (text === undefined) throw new Error(`${path} was not generated; have: ${Object.keys(files).join(', ')}`);
  return parse(text);
};

describe('generateRepo', () => {
  const inputs = inputsWith(['dev', 'prod'], (e) =>
    e.name === 'prod'
      ? { ...e, replicas: 3, mongodb: { ...e.mongodb, members: 3 }, sync: { automated: false, prune: false, selfHeal: false }, ingress: { host: 'users.example.com', tlsSecret: 'users-api-tls' } }
      : e,
  );
  const files = generateRepo(inputs);

  it('is deterministic: the same inputs give the same bytes, keys sorted', () => {
    expect(generateRepo(structuredClone(inputs))).toEqual(files);
    expect(Object.keys(files)).toEqual([...Object.keys(files)].sort());
  });

  it('marks every generated YAML file with the header, and ends every file with one newline', () => {
    for (const [path, text] of Object.entries(files)) {
      if (path.endsWith('.yaml')) expect(text.startsWith(GENERATED_HEADER_PREFIX), path).toBe(true);
      expect(text.endsWith('\n') && !text.endsWith('\n\n'), path).toBe(true);
    }
  });

  it('renders the Deployment of the users API from the contract', () => {
    expect(files['apps/users-api/deploy/deployment.yaml']).toMatchSnapshot();
    const d = read(files, 'apps/users-api/deploy/deployment.yaml');
    const pod = d.spec.template.spec;
    const c = pod.containers[0];
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: RUN_AS_USER, seccompProfile: { type: 'RuntimeDefault' } });
    expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(c.ports[0].containerPort).toBe(HTTP_PORT);
    expect(c.livenessProbe.httpGet.path).toBe(PATHS.liveness);
    expect(c.readinessProbe.httpGet.path).toBe(PATHS.readiness);
    expect(c.startupProbe.httpGet.path).toBe(PATHS.liveness);
    // HOST=0.0.0.0: the API binds 127.0.0.1 by default (issue 32); in the pod, the kubelet's probes and the Service reach every address.
    expect(c.env).toEqual([
      { name: 'MONGODB_URI', valueFrom: { secretKeyRef: { name: MONGODB.connectionSecret, key: MONGODB.connectionKey } } },
      { name: 'HOST', value: '0.0.0.0' },
    ]);
    expect(c.envFrom[0].configMapRef.name).toBe('users-api-config');
    expect(c.resources.requests.cpu).toBeTruthy();
    expect(pod.volumes[0]).toMatchObject({ name: 'writable-tmp', emptyDir: {} });
    expect(c.volumeMounts[0].mountPath).toBe('/tmp');
  });

  it('lets only the ingress controller and same-namespace pods reach the API', () => {
    const np = read(files, 'apps/users-api/deploy/networkpolicy.yaml');
    expect(np.spec.ingress[0].from).toEqual([
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'traefik' } } },
      { podSelector: {} },
    ]);
  });

  it('builds each overlay from both bases with a hashed ConfigMap from .env, the tag and replicas', () => {
    expect(files['overlays/prod/kustomization.yaml']).toMatchSnapshot();
    const k = read(files, 'overlays/prod/kustomization.yaml');
    expect(k.namespace).toBe('prod');
    // prod is protected: backups on by default (docs/mongodb.md "Backups").
    expect(k.resources).toEqual(['../../apps/users-api/deploy', '../../platform/mongodb/replicaset', 'ingress.yaml', 'backup-cronjob.yaml', 'backup-pvc.yaml']);
    expect(k.configMapGenerator).toEqual([{ name: 'users-api-config', envs: ['.env'] }]);
    expect(k.generatorOptions?.disableNameSuffixHash).toBeUndefined();
    expect(k.images).toEqual([{ name: inputs.settings.image, newTag: inputs.settings.defaults.tag }]);
    expect(k.replicas).toEqual([{ name: 'users-api', count: 3 }]);
    expect(read(files, 'overlays/prod/ingress.yaml').spec.tls).toEqual([{ hosts: ['users.example.com'], secretName: 'users-api-tls' }]);
    expect(files['overlays/dev/ingress.yaml']).toBeUndefined();
  });

  it('gives each environment an Application with its sync policy; prod syncs by hand', () => {
    const dev = read(files, 'argocd/apps/dev.yaml');
    const prod = read(files, 'argocd/apps/prod.yaml');
    expect(dev.metadata.name).toBe('dev-users-api');
    expect(dev.spec.syncPolicy.automated).toEqual({ prune: true, selfHeal: true });
    expect(prod.spec.syncPolicy.automated).toBeUndefined();
    // The root creates the namespace (argocd/namespaces/<env>.yaml, an earlier wave), not the Application.
    expect(prod.spec.syncPolicy.syncOptions).not.toContain('CreateNamespace=true');
    expect(read(files, 'argocd/namespaces/prod.yaml')).toMatchObject({ kind: 'Namespace', metadata: { name: 'prod' } });
    expect(prod.spec.source).toEqual({ repoURL: inputs.settings.repoURL, targetRevision: 'main', path: 'overlays/prod' });
  });

  it('orders the waves: projects, then the operator, then the environments', () => {
    const wave = (p: string) => Number(read(files, p).metadata.annotations['argocd.argoproj.io/sync-wave']);
    for (const p of ['argocd/projects/root.yaml', 'argocd/projects/platform.yaml', 'argocd/projects/dev-users-api.yaml']) {
      expect(wave(p)).toBeLessThan(wave('argocd/apps/mongodb-operator.yaml'));
    }
    expect(wave('argocd/apps/mongodb-operator.yaml')).toBeLessThan(wave('argocd/apps/dev.yaml'));
  });

  it('gives each environment a project for its own namespace, this repository and only namespaced kinds', () => {
    const dev = read(files, 'argocd/projects/dev-users-api.yaml');
    const prod = read(files, 'argocd/projects/prod-users-api.yaml');
    expect(read(files, 'argocd/apps/dev.yaml').spec.project).toBe('dev-users-api');
    expect(read(files, 'argocd/apps/prod.yaml').spec.project).toBe('prod-users-api');
    for (const p of [dev, prod]) {
      expect(p.spec.sourceRepos).toEqual([inputs.settings.repoURL]);
      expect(p.spec.clusterResourceWhitelist).toEqual([]);
      const kinds = p.spec.namespaceResourceWhitelist.map((k: any) => k.kind);
      expect(kinds).toEqual(expect.arrayContaining(['Deployment', 'Service', 'ConfigMap', 'MongoDBCommunity', 'NetworkPolicy', 'PodDisruptionBudget']));
      expect(kinds).not.toContain('Secret');
    }
    expect(dev.spec.destinations).toEqual([{ namespace: 'dev', server: 'https://kubernetes.default.svc' }]);
    expect(prod.spec.destinations).toEqual([{ namespace: 'prod', server: 'https://kubernetes.default.svc' }]);
    // Exactly what each renders: only prod has an ingress.
    expect(prod.spec.namespaceResourceWhitelist).toContainEqual({ group: 'networking.k8s.io', kind: 'Ingress' });
    expect(dev.spec.namespaceResourceWhitelist).not.toContainEqual({ group: 'networking.k8s.io', kind: 'Ingress' });
  });

  it('puts the operator in a platform project limited to its chart, its CRDs by name and its namespaces', () => {
    const p = read(files, 'argocd/projects/platform.yaml');
    expect(read(files, 'argocd/apps/mongodb-operator.yaml').spec.project).toBe('platform');
    expect(p.spec.sourceRepos).toEqual([inputs.settings.operator.chartRepo]);
    expect(p.spec.destinations.map((d: any) => d.namespace)).toEqual(['dev', inputs.settings.operator.namespace, 'prod'].sort());
    const crds = p.spec.clusterResourceWhitelist.filter((k: any) => k.kind === 'CustomResourceDefinition');
    expect(crds).toContainEqual({ group: 'apiextensions.k8s.io', kind: 'CustomResourceDefinition', name: 'mongodbcommunity.mongodbcommunity.mongodb.com' });
    // Every cluster-scoped entry names its object: no wildcard ClusterRoleBinding.
    for (const k of p.spec.clusterResourceWhitelist) expect(k.name, JSON.stringify(k)).toBeTruthy();
  });

  it('keeps the root in its own project, allowed only Applications, AppProjects and the environments\' Namespaces', () => {
    const root = read(files, 'argocd/root.yaml');
    const p = read(files, 'argocd/projects/root.yaml');
    expect(root.spec.project).toBe('root');
    expect(p.spec.namespaceResourceWhitelist).toEqual([{ group: 'argoproj.io', kind: 'AppProject' }, { group: 'argoproj.io', kind: 'Application' }]);
    expect(p.spec.clusterResourceWhitelist).toEqual([{ group: '', kind: 'Namespace', name: 'dev' }, { group: '', kind: 'Namespace', name: 'prod' }]);
    expect(p.spec.destinations).toEqual([{ namespace: 'argocd', server: 'https://kubernetes.default.svc' }]);
    expect(p.spec.sourceRepos).toEqual([inputs.settings.repoURL]);
  });

  it('makes the root sync exactly the generated files under argocd/ (directory.include)', () => {
    const root = read(files, 'argocd/root.yaml');
    const generated = Object.keys(files).filter((f) => f.startsWith('argocd/') && f !== 'argocd/root.yaml').map((f) => f.slice('argocd/'.length));
    expect(root.spec.source.directory.exclude).toBeUndefined();
    expect(root.spec.source.directory.include).toBe(`{${generated.sort().join(',')}}`);
  });

  it('refuses a generated file name with glob characters in the root\'s include, and validate reads only literal lists', () => {
    expect(() => rootInclude(['argocd/apps/a*.yaml'])).toThrow(/glob characters/);
    expect(literalInclude('{apps/a.yaml,projects/b.yaml}')).toEqual(['apps/a.yaml', 'projects/b.yaml']);
    expect(literalInclude('*.yaml')).toBeUndefined();
    expect(literalInclude('{apps/*,x.yaml}')).toBeUndefined();
  });

  it('drops an environment\'s files when it is removed from the inputs', () => {
    const { dev, ...rest } = inputs.envs;
    const fewer = generateRepo({ ...inputs, envs: rest });
    expect(dev).toBeDefined();
    expect(Object.keys(fewer).filter((p) => p.includes('dev'))).toEqual([]);
    expect(read(fewer, 'argocd/apps/mongodb-operator.yaml').spec.source.helm.valuesObject.operator.watchNamespace).toBe('prod');
  });
});
