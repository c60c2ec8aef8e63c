// Preview environments: one per open, labelled pull request, in its own namespace pr-<number> with its own
// one-member MongoDB and the pull request's image, created, followed and removed by an Argo CD
// ApplicationSet with the Pull Request generator (argoproj/argo-cd@v3.5.1:
// docs/operator-manual/applicationset/Generators-Pull-Request.md). Everything a preview is comes from one
// template environment (gitops.yaml previews.template) through the same overlay generator as every
// environment; the ApplicationSet only swaps the namespace, the image tag and the ingress host, with the
// Application's kustomize overrides (docs/user-guide/kustomize.md: namespace, images, patches).
//
// Files:
//   previews/template/            the overlay every preview renders (namespace placeholder "preview",
//                                 a Namespace object of that name, so Argo CD owns the namespace and
//                                 deleting the Application deletes it — and the database's PVCs with it)
//   overlays/pr-123/              a sample preview: the template with exactly the overrides the
//                                 ApplicationSet applies for pull request 123, so render, validate and diff
//                                 review what a preview will be
//   argocd/previews.yaml          the ApplicationSet
//   argocd/projects/previews.yaml the previews' project: namespaces pr-*, the namespaced kinds the template
//                                 renders, Namespace objects named pr-* only, this repository only
import { APP_NAME } from '../../../apps/users-api/src/contract.ts';
import { githubRepoOf } from '../release/github.ts';
import { PREVIEWS_DIR } from '../layout.ts';
import type { EnvSpec, PreviewSettings, RepoSettings } from '../spec.ts';
import { appProject, FINALIZER, kindsOf, NAMESPACE_POD_SECURITY, RETRY, WAVES } from './argocd.ts';
import { destination, IN_CLUSTER_NAME } from '../clusters/index.ts';
import type { GroupKind } from './argocd.ts';
import { ENV_LABEL } from './overlay.ts';

export const PREVIEW_TEMPLATE_DIR = `${PREVIEWS_DIR}/template`;
/** The environment name and namespace the template is written with; each preview replaces it. */
export const PREVIEW_PLACEHOLDER = 'preview';
export const PREVIEW_PROJECT = 'previews';
export const PREVIEW_APPLICATIONSET = 'previews';
/** The pull request number of the committed sample preview. */
export const PREVIEW_SAMPLE_NUMBER = 123;
export const PREVIEW_NAMESPACE_PREFIX = 'pr-';
export const previewName = (n: number | string): string => `${PREVIEW_NAMESPACE_PREFIX}${n}`;
export const PREVIEW_NAMESPACE_FILE = 'namespace.yaml';

/** The template environment's spec as every preview runs it: one API pod, one member, synced automatically. */
export function previewEnvSpec(template: EnvSpec, previews: PreviewSettings): EnvSpec {
  return {
    ...template,
    name: PREVIEW_PLACEHOLDER,
    namespace: PREVIEW_PLACEHOLDER,
    replicas: 1,
    mongodb: { ...template.mongodb, members: 1 },
    ingress: previews.ingress ? { host: previewHost(previews, 0), ...(previews.ingress.tlsSecret ? { tlsSecret: previews.ingress.tlsSecret } : {}) } : undefined,
    sync: { automated: true, prune: true, selfHeal: true },
    targetRevision: 'HEAD',
  };
}

/** The host of preview `n` (a number, or Argo CD's `{{.number}}` template). */
export function previewHost(previews: PreviewSettings, n: number | string): string {
  if (!previews.ingress) throw new Error('previews have no ingress');
  return previews.ingress.host.replace('{number}', String(n));
}

/** The Namespace each preview owns (renamed from the placeholder by Kustomize's namespace transformer). */
export function previewNamespaceObject(): object {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: PREVIEW_PLACEHOLDER, labels: { ...NAMESPACE_POD_SECURITY, preview: 'true' } },
  };
}

/**
 * What turns the template into preview `n`: the same three overrides whether Argo CD applies them (the
 * Application's spec.source.kustomize) or the sample kustomization does. `tag` is the image tag.
 */
export function previewOverrides(settings: RepoSettings, previews: PreviewSettings, n: number | string, tag: string): { namespace: string; image: string; patches: object[] } {
  const patches: object[] = [];
  if (previews.ingress) {
    const host = previewHost(previews, n);
    const ops: object[] = [{ op: 'replace', path: '/spec/rules/0/host', value: host }];
    if (previews.ingress.tlsSecret) ops.push({ op: 'replace', path: '/spec/tls/0/hosts/0', value: host });
    patches.push({ target: { group: 'networking.k8s.io', version: 'v1', kind: 'Ingress', name: APP_NAME }, patch: JSON.stringify(ops) });
  }
  return { namespace: previewName(n), image: `${settings.image}:${tag}`, patches };
}

/** overlays/pr-123/kustomization.yaml: the template as the ApplicationSet renders pull request 123. */
export function sampleKustomization(settings: RepoSettings, previews: PreviewSettings, template: EnvSpec): object {
  const o = previewOverrides(settings, previews, PREVIEW_SAMPLE_NUMBER, template.tag);
  return {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    namespace: o.namespace,
    resources: [`../../${PREVIEW_TEMPLATE_DIR}`],
    images: [{ name: settings.image, newTag: template.tag }],
    ...(o.patches.length > 0 ? { patches: o.patches } : {}),
  };
}

/** The pull request's image tag: what the release workflow pushes for its head commit (sha-<7 hex>). */
export const PR_IMAGE_TAG = 'sha-{{.head_short_sha_7}}';

export function previewApplicationSet(settings: RepoSettings, previews: PreviewSettings): object {
  const { owner, repo } = githubRepoOf(settings.repoURL);
  const o = previewOverrides(settings, previews, '{{.number}}', PR_IMAGE_TAG);
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'ApplicationSet',
    metadata: { name: PREVIEW_APPLICATIONSET, namespace: settings.argocd.namespace, annotations: { 'argocd.argoproj.io/sync-wave': WAVES.environments } },
    spec: {
      goTemplate: true,
      goTemplateOptions: ['missingkey=error'],
      generators: [
        {
          pullRequest: {
            github: { owner, repo, labels: [previews.label], tokenRef: { secretName: previews.tokenSecret, key: 'token' } },
            requeueAfterSeconds: previews.requeueAfterSeconds,
          },
        },
      ],
      // Deleting a generated Application deletes what it deployed (the default, said explicitly):
      // with its Namespace, the database and its PVCs go too.
      syncPolicy: { preserveResourcesOnDeletion: false },
      template: {
        metadata: {
          name: `${previewName('{{.number}}')}-${APP_NAME}`,
          namespace: settings.argocd.namespace,
          labels: { [ENV_LABEL]: previewName('{{.number}}'), preview: 'true' },
          finalizers: [FINALIZER],
        },
        spec: {
          project: PREVIEW_PROJECT,
          source: {
            repoURL: settings.repoURL,
            // The pull request's own manifests at its head commit.
            targetRevision: '{{.head_sha}}',
            path: PREVIEW_TEMPLATE_DIR,
            kustomize: { namespace: o.namespace, images: [o.image], ...(o.patches.length > 0 ? { patches: o.patches } : {}) },
          },
          // Previews run in-cluster; by name when gitops.yaml names clusters, as their project says (clusters/index.ts).
          destination: destination(settings, IN_CLUSTER_NAME, o.namespace),
          syncPolicy: { automated: { prune: true, selfHeal: true }, syncOptions: ['ServerSideApply=true', 'PruneLast=true'], retry: RETRY },
        },
      },
    },
  };
}

/** The previews' project: namespaces pr-*, Namespace objects named pr-*, the kinds the template renders. */
export function previewProject(settings: RepoSettings, templateObjects: readonly object[]): object {
  const { namespaced } = kindsOf(templateObjects.filter((o) => (o as { kind: string }).kind !== 'Namespace'));
  const cluster: GroupKind[] = [{ group: '', kind: 'Namespace', name: `${PREVIEW_NAMESPACE_PREFIX}*` }];
  return appProject(settings, PREVIEW_PROJECT, {
    description: 'Preview environments pr-<number> (ApplicationSet, pull request generator): their own namespace and namespaced objects only',
    sourceRepos: [settings.repoURL],
    namespaces: [`${PREVIEW_NAMESPACE_PREFIX}*`],
    cluster,
    namespaced,
  });
}

export interface PreviewFiles {
  /** Repository files (path → content), the template overlay and the sample. */
  files: Record<string, string>;
  /** Files under argocd/ the root syncs (path → object). */
  argocd: Array<{ path: string; sources: string[]; object: object }>;
}

/**
 * Everything previews add, from the template environment's spec and .env. `overlayParts` is the same
 * function that writes every environment's overlay (index.ts), so a preview is an environment.
 */
export function previewFiles(
  settings: RepoSettings,
  previews: PreviewSettings,
  template: { spec: EnvSpec; dotenv: string; sources: string[] },
  overlayParts: (env: EnvSpec, dir: string, sources: string[]) => { files: Record<string, string>; objects: object[] },
  header: (sources: string[]) => string,
  yaml: (value: unknown) => string,
): PreviewFiles {
  const spec = previewEnvSpec(template.spec, previews);
  const sources = [...template.sources, 'gitops.yaml'];
  const parts = overlayParts(spec, PREVIEW_TEMPLATE_DIR, sources);
  const files: Record<string, string> = { ...parts.files };
  files[`${PREVIEW_TEMPLATE_DIR}/${PREVIEW_NAMESPACE_FILE}`] = header(sources) + yaml(previewNamespaceObject());
  // The template's settings are the template environment's .env, byte for byte after the header
  // (Kustomize's env-file reader skips # lines: sigs.k8s.io/kustomize/api@v0.18 kv.go).
  files[`${PREVIEW_TEMPLATE_DIR}/.env`] = header(template.sources.filter((s) => s.endsWith('.env'))) + template.dotenv;
  files[`overlays/${previewName(PREVIEW_SAMPLE_NUMBER)}/kustomization.yaml`] = header(sources) + yaml(sampleKustomization(settings, previews, template.spec));
  const project = previewProject(settings, [...parts.objects, previewNamespaceObject()]);
  return {
    files,
    argocd: [
      { path: `argocd/${PREVIEW_APPLICATIONSET}.yaml`, sources, object: previewApplicationSet(settings, previews) },
      { path: `argocd/projects/${PREVIEW_PROJECT}.yaml`, sources, object: project },
    ],
  };
}
