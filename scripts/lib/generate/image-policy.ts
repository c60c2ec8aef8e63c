// Signatures enforced in the cluster: Kyverno (admission controller only), installed by Argo CD from its
// pinned Helm chart like the MongoDB operator, in its own project, with ONE ClusterPolicy generated here:
//  - in the environments' namespaces, the users API image (gitops.yaml `image`) must carry a keyless cosign
//    signature by this repository's release workflow on refs/heads/main or an exact refs/tags/vX.Y.Z;
//    the preview repository's images are refused there;
//  - in preview namespaces (the marker label the ApplicationSet sets), only the preview repository
//    (gitops.yaml previews.image) signed by the pull request build's identity;
//  - in both, no image from elsewhere except the MongoDB operator's own (quay.io/mongodb, the chart's
//    registries: mongodb/mongodb-kubernetes@1.10.0:helm_chart/values.yaml `registry.*`) and the pinned
//    images the environments' manifests name besides the API's.
// Why Kyverno and not Sigstore policy-controller: docs/release.md "Signatures enforced in the cluster".
//
// Kyverno v1.19.0, chart kyverno 3.9.0 (kyverno/kyverno@v1.19.0:charts/kyverno/Chart.yaml; repository
// https://kyverno.github.io/kyverno/ from charts/kyverno/README.md). Policy API kyverno.io/v1 ClusterPolicy
// (kyverno/kyverno@v1.19.0:api/kyverno/v1/image_verification_types.go, config/crds/kyverno/kyverno.io_clusterpolicies.yaml).
import { githubRepoOf } from '../inputs/refs-urls.ts';
import { IMAGE_POLICY_DIR } from '../core/layout.ts';
import type { RepoSettings } from '../inputs/spec.ts';
import { appProject, kindsOf, RETRY, WAVES } from './argocd.ts';
import { destination, IN_CLUSTER_NAME } from '../inputs/clusters.ts';
import type { GroupKind } from './argocd.ts';
import { PREVIEW_MARKER_LABEL } from './admission.ts';
import { previewImageRepo } from './previews.ts';

/** GitHub Actions' OIDC issuer, as Fulcio records it in the signing certificate (the cluster and `promote` verify against it). */
export const GITHUB_OIDC_ISSUER = 'https://token.actions.githubusercontent.com';
/** The one workflow whose keyless signature admits an image. */
export const RELEASE_WORKFLOW = '.github/workflows/release.yml';

export const KYVERNO = {
  chartRepo: 'https://kyverno.github.io/kyverno/',
  chart: 'kyverno',
  version: '3.9.0',
  appVersion: 'v1.19.0',
  namespace: 'kyverno',
  releaseName: 'kyverno',
} as const;
export const IMAGE_POLICY_APP = 'image-policy';
export const IMAGE_POLICY_PROJECT = 'image-policy';
export const IMAGE_POLICY_NAME = 'verify-users-api-images';
export const IMAGE_POLICY_FILE = `${IMAGE_POLICY_DIR}/clusterpolicy-${IMAGE_POLICY_NAME}.yaml`;
/** The MongoDB operator's images (every `registry.*` of the pinned chart's values.yaml). */
export const OPERATOR_IMAGES = 'quay.io/mongodb/*';
/** The public Sigstore transparency log the release workflow's cosign writes to. */
export const REKOR_URL = 'https://rekor.sigstore.dev';

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The release identity, exact: the release workflow on main or on a tag vX.Y.Z, nothing after it.
 * Kyverno matches `subjectRegExp` with Go's regexp.MatchString, which is unanchored
 * (kyverno/kyverno@v1.19.0:pkg/image/verifiers/cpol/cosign/cosign.go matchCertificateData): hence ^…$.
 */
export function releaseSubjectRegExp(settings: RepoSettings): string {
  const { owner, repo } = githubRepoOf(settings.repoURL);
  return `^https://github\\.com/${escape(owner)}/${escape(repo)}/${escape(RELEASE_WORKFLOW)}@refs/(heads/main|tags/v[0-9]+\\.[0-9]+\\.[0-9]+)$`;
}

/** The pull request build's identity: the same workflow run for a pull request (GitHub's OIDC
 *  `ref` of a pull_request event is refs/pull/<n>/merge). */
export function pullRequestSubjectRegExp(settings: RepoSettings): string {
  const { owner, repo } = githubRepoOf(settings.repoURL);
  return `^https://github\\.com/${escape(owner)}/${escape(repo)}/${escape(RELEASE_WORKFLOW)}@refs/pull/[0-9]+/merge$`;
}

/** Image references of a repository: by tag or by digest (Kyverno wildcards: `*` is any run, '/' included). */
const refsOf = (repo: string): string[] => [`${repo}:*`, `${repo}@*`];

function onlyImages(allowed: readonly string[], message: string): object {
  const pattern = allowed.join(' | ');
  return {
    failureAction: 'Enforce',
    message,
    pattern: {
      spec: {
        containers: [{ image: pattern }],
        '=(initContainers)': [{ image: pattern }],
        '=(ephemeralContainers)': [{ image: pattern }],
      },
    },
  };
}

function verify(imageReferences: string[], subjectRegExp: string): object {
  return {
    imageReferences,
    failureAction: 'Enforce',
    type: 'Cosign',
    // The tag becomes the verified digest in the admitted pod (a re-pointed tag cannot swap it later).
    mutateDigest: true,
    verifyDigest: true,
    required: true,
    attestors: [{ count: 1, entries: [{ keyless: { issuer: GITHUB_OIDC_ISSUER, subjectRegExp, rekor: { url: REKOR_URL } } }] }],
  };
}

/**
 * The ClusterPolicy. `envNamespaces`: the in-cluster environments' namespaces; `otherImages`: pinned
 * images (by digest) the environments' manifests name besides the API's, admitted as they are.
 */
export function imageClusterPolicy(settings: RepoSettings, envNamespaces: readonly string[], otherImages: readonly string[] = []): object {
  const preview = settings.previews ? previewImageRepo(settings, settings.previews) : undefined;
  const envMatch = { any: [{ resources: { kinds: ['Pod'], namespaces: [...envNamespaces].sort() } }] };
  const previewMatch = { any: [{ resources: { kinds: ['Pod'], namespaceSelector: { matchLabels: { [PREVIEW_MARKER_LABEL]: 'true' } } } }] };
  const rules: object[] = [];
  if (envNamespaces.length > 0) {
    rules.push(
      { name: 'environments-release-signature', match: envMatch, verifyImages: [verify(refsOf(settings.image), releaseSubjectRegExp(settings))] },
      { name: 'environments-only-release-images', match: envMatch, validate: onlyImages([...refsOf(settings.image), OPERATOR_IMAGES, ...otherImages],
        `an environment runs only ${settings.image} (signed by ${RELEASE_WORKFLOW} on main or a vX.Y.Z tag), the MongoDB operator's images and the pinned images of its manifests${preview ? `; never a pull request build (${preview})` : ''}`) },
    );
  }
  if (preview) {
    rules.push(
      { name: 'previews-pull-request-signature', match: previewMatch, verifyImages: [verify(refsOf(preview), pullRequestSubjectRegExp(settings))] },
      { name: 'previews-only-preview-images', match: previewMatch, validate: onlyImages([...refsOf(preview), OPERATOR_IMAGES, ...otherImages],
        `a preview runs only pull request builds from ${preview} (signed by ${RELEASE_WORKFLOW} for a pull request), the MongoDB operator's images and the pinned images of its manifests`) },
    );
  }
  return {
    apiVersion: 'kyverno.io/v1',
    kind: 'ClusterPolicy',
    metadata: {
      name: IMAGE_POLICY_NAME,
      // After the chart's CRDs and Deployment (wave 0 inside the Application).
      annotations: { 'argocd.argoproj.io/sync-wave': '1', 'argocd.argoproj.io/sync-options': 'SkipDryRunOnMissingResource=true' },
    },
    spec: {
      // Admission only: no background scan reports (the background/reports controllers are not installed).
      background: false,
      failurePolicy: 'Fail',
      webhookTimeoutSeconds: 15,
      rules,
    },
  };
}

/** The Kyverno Application: the pinned chart and this repository's policy directory, one sync. */
export function imagePolicyApplication(settings: RepoSettings): object {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: {
      name: IMAGE_POLICY_APP,
      namespace: settings.argocd.namespace,
      annotations: { 'argocd.argoproj.io/sync-wave': WAVES.operator },
      labels: { 'app.kubernetes.io/component': 'admission', 'app.kubernetes.io/part-of': 'kyverno' },
    },
    spec: {
      project: IMAGE_POLICY_PROJECT,
      // Multiple sources (argoproj/argo-cd@v3.5.1:docs/user-guide/multiple_sources.md): the chart, and
      // the generated ClusterPolicy, so the policy's CRD arrives in the same sync before it.
      sources: [
        {
          repoURL: KYVERNO.chartRepo,
          chart: KYVERNO.chart,
          targetRevision: KYVERNO.version,
          helm: {
            releaseName: KYVERNO.releaseName,
            // Only the admission controller (kyverno/kyverno@v1.19.0:charts/kyverno/values.yaml):
            // verifyImages runs there; background, cleanup and reports controllers are not needed.
            valuesObject: {
              backgroundController: { enabled: false },
              cleanupController: { enabled: false },
              reportsController: { enabled: false },
              admissionController: { replicas: 1 },
            },
          },
        },
        { repoURL: settings.repoURL, targetRevision: 'HEAD', path: IMAGE_POLICY_DIR },
      ],
      destination: destination(settings, IN_CLUSTER_NAME, KYVERNO.namespace),
      syncPolicy: {
        automated: { prune: true, selfHeal: true },
        // CRDs this large need server-side apply (the client-side last-applied annotation is limited).
        syncOptions: ['CreateNamespace=true', 'ServerSideApply=true'],
        retry: RETRY,
      },
    },
  };
}

/**
 * Its project: the Kyverno namespace and the cluster-scoped kinds the chart's templates render with these
 * values (kyverno/kyverno@v1.19.0:charts/kyverno/templates/{admission-controller,rbac,config,hooks}/ and
 * charts/kyverno/charts/crds/templates/: CustomResourceDefinition, ClusterRole, ClusterRoleBinding), the
 * Namespace CreateNamespace=true creates, and the ClusterPolicy. Kyverno registers its webhooks itself at
 * run time (not Argo CD), so no webhook kind is here.
 */
export function imagePolicyProject(settings: RepoSettings): object {
  return appProject(settings, IMAGE_POLICY_PROJECT, {
    description: `Kyverno ${KYVERNO.appVersion} (chart ${KYVERNO.version}) and the image signature policy: namespace ${KYVERNO.namespace} only`,
    sourceRepos: [KYVERNO.chartRepo, settings.repoURL],
    namespaces: [KYVERNO.namespace],
    cluster: imagePolicyChartKinds().cluster,
    namespaced: imagePolicyChartKinds().namespaced,
  });
}

/**
 * What the Kyverno chart renders with imagePolicyApplication's values, by kind — READ from the chart's
 * templates at the pinned tag (kyverno/kyverno@v1.19.0:charts/kyverno/templates/{admission-controller,rbac,
 * config,hooks}/, charts/crds/templates/), not rendered: no Helm exists here. Plus the Namespace
 * CreateNamespace=true creates and the generated ClusterPolicy by name.
 */
export function imagePolicyChartKinds(): { cluster: GroupKind[]; namespaced: GroupKind[] } {
  return {
    cluster: [
      { group: '', kind: 'Namespace', name: KYVERNO.namespace },
      { group: 'apiextensions.k8s.io', kind: 'CustomResourceDefinition' },
      { group: 'kyverno.io', kind: 'ClusterPolicy', name: IMAGE_POLICY_NAME },
      { group: 'rbac.authorization.k8s.io', kind: 'ClusterRole' },
      { group: 'rbac.authorization.k8s.io', kind: 'ClusterRoleBinding' },
    ],
    namespaced: ['ConfigMap', 'Secret', 'Service', 'ServiceAccount'].map((kind): GroupKind => ({ group: '', kind }))
      .concat([{ group: 'apps', kind: 'Deployment' }, { group: 'batch', kind: 'Job' }, { group: 'networking.k8s.io', kind: 'NetworkPolicy' }, { group: 'policy', kind: 'PodDisruptionBudget' },
        { group: 'rbac.authorization.k8s.io', kind: 'Role' }, { group: 'rbac.authorization.k8s.io', kind: 'RoleBinding' }]),
  };
}

/**
 * For the sync plan (scripts/lib/review/plan), what the unrendered Kyverno chart source contributes that the
 * policy source depends on — READ from the chart at the pinned tag, not rendered (no Helm, no chart source
 * here): the CustomResourceDefinition of each kyverno.io kind the policy files use (the crds subchart,
 * kyverno/kyverno@v1.19.0:charts/kyverno/charts/crds/templates/kyverno.io/; name <plural>.kyverno.io as in
 * config/crds/kyverno/kyverno.io_clusterpolicies.yaml) and the admission controller's Deployment
 * (charts/kyverno/templates/admission-controller/deployment.yaml, "kyverno-admission-controller").
 */
export function imagePolicyChartObjects(policyObjects: readonly object[]): Array<Record<string, unknown>> {
  const plural: Record<string, string> = { ClusterPolicy: 'clusterpolicies', Policy: 'policies' };
  const kinds = [...new Set(policyObjects.map((o) => o as { apiVersion?: string; kind?: string }).filter((o) => (o.apiVersion ?? '').startsWith('kyverno.io/')).map((o) => o.kind ?? ''))].sort();
  return [
    ...kinds.map((kind) => ({
      apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: `${plural[kind] ?? `${kind.toLowerCase()}s`}.kyverno.io` },
      spec: { group: 'kyverno.io', names: { kind, plural: plural[kind] ?? `${kind.toLowerCase()}s` }, scope: kind === 'ClusterPolicy' ? 'Cluster' : 'Namespaced', versions: [{ name: 'v1', served: true, storage: true }] },
    })),
    { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: `${KYVERNO.releaseName}-admission-controller`, namespace: KYVERNO.namespace } },
  ];
}

/**
 * For `validate`'s project check (argocd-project): what the image-policy Application needs from its
 * project, or undefined when `spec` is not that Application (the only multi-source one). The policy
 * directory's objects are read from the committed files, so a hand-added object there shows up.
 */
export function imagePolicyNeeds(spec: { sources?: unknown; destination?: { namespace?: string } }, policyObjects: readonly object[]): { repos: string[]; namespaces: string[]; cluster: GroupKind[]; namespaced: GroupKind[] } | undefined {
  if (!Array.isArray(spec.sources)) return undefined;
  const sources = spec.sources as Array<{ repoURL?: string; chart?: string; path?: string }>;
  if (!sources.some((s) => s.chart === KYVERNO.chart && s.repoURL === KYVERNO.chartRepo)) return undefined;
  const chart = imagePolicyChartKinds();
  const fromFiles = kindsOf(policyObjects);
  return {
    repos: sources.map((s) => String(s.repoURL ?? '')),
    namespaces: [spec.destination?.namespace ?? ''],
    cluster: [...chart.cluster.filter((k) => k.kind !== 'ClusterPolicy'), ...fromFiles.cluster],
    namespaced: [...chart.namespaced, ...fromFiles.namespaced],
  };
}

/** Every container image the given manifests name (pod templates of workloads and Jobs), sorted. */
export function imagesOf(objects: readonly object[]): string[] {
  const out = new Set<string>();
  const visit = (v: unknown, key = ''): void => {
    if (Array.isArray(v)) for (const x of v) visit(x, key);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if ((key === 'containers' || key === 'initContainers') && k === 'image' && typeof x === 'string') out.add(x);
        else visit(x, k);
      }
    }
  };
  for (const o of objects) visit(o);
  return [...out].sort();
}

export interface ImagePolicyFiles {
  files: Record<string, string>;
  argocd: Array<{ path: string; sources: string[]; object: object }>;
}

/** The Application, its project and the policy file; `manifests` are the environments' base objects. */
export function imagePolicyFiles(settings: RepoSettings, envNamespaces: readonly string[], manifests: readonly object[], yamlFile: (sources: string[], obj: object) => string): ImagePolicyFiles {
  const others = imagesOf(manifests).filter((i) => i !== settings.image && !i.startsWith(`${settings.image}:`) && !i.startsWith(`${settings.image}@`));
  const sources = ['gitops.yaml', 'overlays/*/env.yaml', 'scripts/lib/generate/image-policy.ts'];
  return {
    files: { [IMAGE_POLICY_FILE]: yamlFile(sources, imageClusterPolicy(settings, envNamespaces, others)) },
    argocd: [
      { path: `argocd/apps/${IMAGE_POLICY_APP}.yaml`, sources, object: imagePolicyApplication(settings) },
      { path: `argocd/projects/${IMAGE_POLICY_PROJECT}.yaml`, sources, object: imagePolicyProject(settings) },
    ],
  };
}
