// Preview environments: one per open, labelled pull request, in its own namespace pr-<number> with its own
// one-member MongoDB and the pull request's image, created, followed and removed by an Argo CD
// ApplicationSet with the Pull Request generator (argoproj/argo-cd@v3.5.1:
// docs/operator-manual/applicationset/Generators-Pull-Request.md). Everything a preview is comes from one
// template environment (gitops.yaml previews.template) through the same overlay generator as every
// environment; the ApplicationSet only swaps the namespace, the image and the ingress host, with the
// Application's kustomize overrides (docs/user-guide/kustomize.md: namespace, images, patches).
//
// A preview is a sandbox by construction (docs/release.md "Previews: the sandbox", SECURITY.md "Preview
// trust boundary"): it renders MAIN's previews/template (the template environment's targetRevision),
// never the pull request's manifests, so a pull request changes only the image, and that image comes from
// the separate preview repository (previews.image). The namespace is not an object of the template:
// Argo CD creates it (CreateNamespace=true) with managedNamespaceMetadata: restricted Pod Security, the
// preview marker the admission policies bind to (admission.ts), and Argo CD's tracking annotation so the
// namespace is owned by the Application and deleted with it (and the database's PVCs with it):
// argoproj/argo-cd@v3.5.1:docs/user-guide/sync-options.md "Namespace Metadata"; controller/sync_namespace.go;
// controller/state.go keeps such a tracked namespace from being pruned. The auto-created Namespace goes
// through the project's permission check like any object (gitops-engine/pkg/sync/sync_context.go:
// autoCreateNamespace adds its task before the "check permissions" loop, which calls controller/sync.go
// validateSyncPermissions → IsGroupKindNamePermitted), so the previews project keeps a
// clusterResourceWhitelist entry Namespace named pr-*, and nothing else cluster-scoped.
//
// Files:
//   previews/template/            the overlay every preview renders (namespace placeholder "preview"),
//                                 with the preview's ResourceQuota and LimitRange (admission.ts)
//   argocd/admission/             the ValidatingAdmissionPolicies of preview namespaces (admission.ts)
//   overlays/pr-123/              a sample preview: the template with exactly the overrides the
//                                 ApplicationSet applies for pull request 123, so render, validate and diff
//                                 review what a preview will be
//   argocd/previews.yaml          the ApplicationSet
//   argocd/projects/previews.yaml the previews' project: namespaces pr-*, the namespaced kinds the template
//                                 renders, Namespace objects named pr-* only, this repository only
import { APP_NAME } from '../../../apps/users-api/src/contract.ts';
import { githubRepoOf } from '../inputs/refs-urls.ts';
import { PREVIEWS_DIR } from '../core/layout.ts';
import type { EnvSpec, PreviewSettings, RepoSettings } from '../inputs/spec.ts';
import { appProject, FINALIZER, kindsOf, RETRY, WAVES } from './argocd.ts';
import { ADMISSION_DIR, admissionFileName, previewAdmissionObjects, previewLimitRange, previewNamespaceLabels, previewResourceQuota, TRACKING_ANNOTATION } from './admission.ts';
import { destination, IN_CLUSTER_NAME } from '../inputs/clusters.ts';
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
/** Objects of the template besides the environment's own: the preview's quota and limits. */
export const PREVIEW_QUOTA_FILES = { resourceQuota: 'resourcequota.yaml', limitRange: 'limitrange.yaml' } as const;
export const PREVIEW_TEMPLATE_RESOURCES: readonly string[] = [PREVIEW_QUOTA_FILES.limitRange, PREVIEW_QUOTA_FILES.resourceQuota];

/** The template environment's spec as every preview runs it: one API pod, one member, synced automatically. */
export function previewEnvSpec(template: EnvSpec, previews: PreviewSettings): EnvSpec {
  // A preview runs its pull request's build (the ApplicationSet sets the image): never the template's digest.
  const { digest: _templateDigest, ...rest } = template;
  return {
    ...rest,
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

/** The image repository of pull request builds: gitops.yaml previews.image, or `<image>-previews`. */
export function previewImageRepo(settings: RepoSettings, previews: PreviewSettings): string {
  return previews.image ?? `${settings.image}-previews`;
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
  // Kustomize `images` as Argo CD passes it to `kustomize edit set image` (old=new:tag,
  // argoproj/argo-cd@v3.5.1:util/kustomize/kustomize.go): every container of the release image
  // (the API and the password Job) runs the pull request's build from the preview repository.
  return { namespace: previewName(n), image: `${settings.image}=${previewImageRepo(settings, previews)}:${tag}`, patches };
}

/** overlays/pr-123/kustomization.yaml: the template as the ApplicationSet renders pull request 123. */
export function sampleKustomization(settings: RepoSettings, previews: PreviewSettings, template: EnvSpec): object {
  const o = previewOverrides(settings, previews, PREVIEW_SAMPLE_NUMBER, template.tag);
  return {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    namespace: o.namespace,
    resources: [`../../${PREVIEW_TEMPLATE_DIR}`],
    images: [{ name: settings.image, newName: previewImageRepo(settings, previews), newTag: template.tag }],
    ...(o.patches.length > 0 ? { patches: o.patches } : {}),
  };
}

/** The pull request's image tag: what the release workflow pushes for its head commit (sha-<7 hex>). */
export const PR_IMAGE_TAG = 'sha-{{.head_short_sha_7}}';

/** What Argo CD puts on namespace pr-<n> (managedNamespaceMetadata): its labels, and the tracking
 *  annotation that makes the Application own it (deleted with it). */
export function previewManagedNamespaceMetadata(n: number | string): { labels: Record<string, string>; annotations: Record<string, string> } {
  const ns = previewName(n);
  return { labels: previewNamespaceLabels(ns), annotations: { [TRACKING_ANNOTATION]: `${ns}-${APP_NAME}:/Namespace:/${ns}` } };
}

/** `revision`: the branch previews render the manifests of (the template environment's targetRevision). */
export function previewApplicationSet(settings: RepoSettings, previews: PreviewSettings, revision: string): object {
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
      // with its (tracked) Namespace, the database and its PVCs go too.
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
            // MAIN's manifests, never the pull request's: only the image comes from the pull request.
            targetRevision: revision,
            path: PREVIEW_TEMPLATE_DIR,
            kustomize: { namespace: o.namespace, images: [o.image], ...(o.patches.length > 0 ? { patches: o.patches } : {}) },
          },
          // Previews run in-cluster; by name when gitops.yaml names clusters, as their project says (clusters/index.ts).
          destination: destination(settings, IN_CLUSTER_NAME, o.namespace),
          syncPolicy: {
            automated: { prune: true, selfHeal: true },
            syncOptions: ['CreateNamespace=true', 'ServerSideApply=true', 'PruneLast=true'],
            managedNamespaceMetadata: previewManagedNamespaceMetadata('{{.number}}'),
            retry: RETRY,
          },
        },
      },
    },
  };
}

/**
 * The previews' project: destinations pr-*, the namespaced kinds the template renders, and of the
 * cluster-scoped kinds only the Namespace named pr-* that CreateNamespace=true creates (its permission is
 * checked like any object's, see the header). A template that renders a cluster-scoped object is a bug.
 */
export function previewProject(settings: RepoSettings, templateObjects: readonly object[]): object {
  const { namespaced, cluster: templateCluster } = kindsOf(templateObjects);
  if (templateCluster.length > 0) throw new Error(`the preview template renders cluster-scoped ${templateCluster.map((k) => `${k.group}/${k.kind}`).join(', ')}: a preview may only hold namespaced objects`);
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
  const quota = previewResourceQuota(previews);
  const limits = previewLimitRange(previews);
  files[`${PREVIEW_TEMPLATE_DIR}/${PREVIEW_QUOTA_FILES.resourceQuota}`] = header(['gitops.yaml']) + yaml(quota);
  files[`${PREVIEW_TEMPLATE_DIR}/${PREVIEW_QUOTA_FILES.limitRange}`] = header(['gitops.yaml']) + yaml(limits);
  // The template's settings are the template environment's .env, byte for byte after the header
  // (Kustomize's env-file reader skips # lines: sigs.k8s.io/kustomize/api@v0.18 kv.go).
  files[`${PREVIEW_TEMPLATE_DIR}/.env`] = header(template.sources.filter((s) => s.endsWith('.env'))) + template.dotenv;
  files[`overlays/${previewName(PREVIEW_SAMPLE_NUMBER)}/kustomization.yaml`] = header(sources) + yaml(sampleKustomization(settings, previews, template.spec));
  const project = previewProject(settings, [...parts.objects, quota, limits]);
  const admission = previewAdmissionObjects(previews, parts.objects.filter((o) => (o as { kind: string }).kind === 'Role'));
  return {
    files,
    argocd: [
      { path: `argocd/${PREVIEW_APPLICATIONSET}.yaml`, sources, object: previewApplicationSet(settings, previews, template.spec.targetRevision) },
      { path: `argocd/projects/${PREVIEW_PROJECT}.yaml`, sources, object: project },
      // Before the projects and the ApplicationSet (wave -3, with the namespaces): no preview exists unguarded.
      ...admission.map((object) => ({ path: `${ADMISSION_DIR}/${admissionFileName(object)}`, sources: [...sources, 'scripts/lib/generate/admission.ts'], object: withWave(object, WAVES.namespaces) })),
    ],
  };
}

function withWave(o: object, wave: string): object {
  const obj = o as { metadata: { annotations?: Record<string, string> } };
  return { ...obj, metadata: { ...obj.metadata, annotations: { ...obj.metadata.annotations, 'argocd.argoproj.io/sync-wave': wave } } };
}
