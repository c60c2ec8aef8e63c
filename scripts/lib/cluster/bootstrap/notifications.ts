// Argo CD Notifications, configured by bootstrap: the keys it server-side applies into
// argocd-notifications-cm (the controller and an empty argocd-notifications-cm and
// argocd-notifications-secret ship in argoproj/argo-cd@v3.5.1:manifests/install.yaml).
//
// Upstream, argoproj/argo-cd@v3.5.1:docs/operator-manual/notifications/:
//  - triggers.md: `trigger.<name>` is a list of { when, send, oncePer }; `when` is an expr-lang
//    expression over `app` (expr-lang/expr v1.17.8 in go.mod); `app.status?.operationState` guards an
//    Application that never ran an operation. We write `?.` before every optional segment
//    (`app.status?.operationState?.phase`), which is nil-safe whether `?.` guards one segment or the chain.
//  - templates.md: `template.<name>` renders with Go's text/template and Sprig (argoproj/notifications-engine
//    pkg/templates/service.go: sprig.TxtFuncMap() without env/expandenv) over `app`, `context`, ….
//  - services/github.md: `service.github` (appID, installationID, privateKey: $github-privateKey), the
//    template's `github.status` (commit status) and `github.pullRequestComment` (a comment on the pull
//    request of the revision, upserted by commentTag).
//  - services/webhook.md: `service.webhook.<name>` with url, template `webhook.<name>` { method, body }.
//  - services/overview.md: `$<key>` in a service reads key <key> of argocd-notifications-secret.
//  - subscriptions.md: `subscriptions` in the ConfigMap, each { recipients, triggers, selector }.
// Secrets (the GitHub App's private key, the webhook URL) are never in git: docs/monitoring.md tells how
// to create argocd-notifications-secret.
//
// Trigger conditions use only this subset of expr-lang, which test/monitoring/notifications.test.ts
// evaluates exactly: `<path> == '<string>'`, `<path> in ['<string>', …]`, joined by `and`, where a path is
// `app` followed by `.field` or `?.field` (nil-safe) segments.
import { toYaml } from '../../core/yaml.ts';
import { APP_NAME, PATHS } from '../../../../apps/users-api/src/contract.ts';
import type { RepoSettings } from '../../inputs/spec.ts';

export const NOTIFICATIONS_CM = 'argocd-notifications-cm';
export const NOTIFICATIONS_SECRET = 'argocd-notifications-secret';
/** Keys of argocd-notifications-secret the configuration refers to (docs/monitoring.md). */
export const SECRET_KEYS = { githubPrivateKey: 'github-privateKey', webhookUrl: 'webhook-url' } as const;
export const WEBHOOK_NAME = 'protected-environments';
/** Labels generated on Applications: previews (argocd/previews.yaml) and protected environments (argocd/apps/<env>.yaml). */
export const PREVIEW_SELECTOR = 'preview=true';
export const PROTECTED_SELECTOR = 'policy.gitops.dev/protected=true';

export const TRIGGERS = {
  syncFailed: 'on-sync-failed',
  healthDegraded: 'on-health-degraded',
  previewDeployed: 'on-preview-deployed',
} as const;

export const TEMPLATES = {
  syncFailed: 'app-sync-failed',
  healthDegraded: 'app-health-degraded',
  previewHealth: 'preview-health',
} as const;

interface Trigger { when: string; send: string[]; oncePer?: string }

export function triggers(): Record<string, Trigger[]> {
  return {
    [TRIGGERS.syncFailed]: [{ when: "app.status?.operationState?.phase in ['Error', 'Failed']", send: [TEMPLATES.syncFailed], oncePer: 'app.status?.operationState?.syncResult?.revision' }],
    [TRIGGERS.healthDegraded]: [{ when: "app.status?.health?.status == 'Degraded'", send: [TEMPLATES.healthDegraded], oncePer: 'app.status?.sync?.revision' }],
    // After a successful sync, once health has settled (Healthy or Degraded, not Progressing), once per revision.
    [TRIGGERS.previewDeployed]: [{
      when: "app.status?.operationState?.phase in ['Succeeded'] and app.status?.health?.status in ['Healthy', 'Degraded']",
      send: [TEMPLATES.previewHealth],
      oncePer: 'app.status?.operationState?.syncResult?.revision',
    }],
  };
}

/** The preview's URL as a Go template over the Application (its `environment` label is pr-<number>), or none without a preview ingress. */
export function previewUrlTemplate(settings: Pick<RepoSettings, 'previews'>): string | undefined {
  const ingress = settings.previews?.ingress;
  if (!ingress) return undefined;
  const host = ingress.host.replace('{number}', '{{ trimPrefix "pr-" (index .app.metadata.labels "environment") }}');
  return `${ingress.tlsSecret ? 'https' : 'http'}://${host}${PATHS.users}`;
}

const WHERE = '{{ .app.spec.destination.namespace }}';
const REVISION = '{{ .app.status.sync.revision | trunc 7 }}';

export function templates(settings: Pick<RepoSettings, 'previews'>): Record<string, object> {
  const url = previewUrlTemplate(settings);
  // Application-level health.message is deprecated and unused in v3.5.1 (its CRD says so): the degraded
  // resources and their messages come from status.resources[].health.
  const degraded = '{{ range .app.status.resources }}{{ if and .health (eq .health.status "Degraded") }} {{ .kind }}/{{ .name }}{{ with .health.message }} ({{ . }}){{ end }};{{ end }}{{ end }}';
  const healthLine = `Health: **{{ .app.status.health.status }}**{{ if eq .app.status.health.status "Degraded" }}:${degraded}{{ end }}`;
  const webhookBody = (event: string, extra: string) =>
    `{{ dict "event" "${event}" "application" .app.metadata.name "namespace" .app.spec.destination.namespace "revision" .app.status.sync.revision "sync" .app.status.sync.status "health" .app.status.health.status${extra} | toJson }}`;
  return {
    [TEMPLATES.syncFailed]: {
      message: `Sync of ${WHERE} ({{ .app.metadata.name }}) failed at ${REVISION}: {{ .app.status.operationState.message }}`,
      webhook: { [WEBHOOK_NAME]: { method: 'POST', body: webhookBody('sync-failed', ' "message" .app.status.operationState.message') } },
      github: { status: { state: 'failure', label: `argocd/{{ .app.metadata.name }}`, targetURL: url ?? '' } },
    },
    [TEMPLATES.healthDegraded]: {
      message: `${WHERE} ({{ .app.metadata.name }}) is Degraded at ${REVISION}:${degraded}`,
      webhook: { [WEBHOOK_NAME]: { method: 'POST', body: webhookBody('health-degraded', '') } },
      github: { status: { state: 'failure', label: `argocd/{{ .app.metadata.name }}`, targetURL: url ?? '' } },
    },
    [TEMPLATES.previewHealth]: {
      message: `Preview ${WHERE} synced at ${REVISION}: {{ .app.status.health.status }}`,
      github: {
        status: { state: '{{ if eq .app.status.health.status "Healthy" }}success{{ else }}failure{{ end }}', label: `argocd/{{ .app.metadata.name }}`, targetURL: url ?? '' },
        pullRequestComment: {
          commentTag: `preview-{{ .app.metadata.name }}`,
          content: [
            `### Preview ${WHERE}: {{ if eq .app.status.health.status "Healthy" }}healthy{{ else }}{{ .app.status.health.status | lower }}{{ end }}`,
            '',
            `Synced revision \`${REVISION}\` (sync {{ .app.status.sync.status }}). ${healthLine}`,
            ...(url ? ['', `URL: ${url}`] : []),
            '',
            `Argo CD Application \`{{ .app.metadata.name }}\`; ${APP_NAME} pods and MongoDB in namespace \`${WHERE}\`.`,
          ].join('\n'),
        },
      },
    },
  };
}

export interface Subscription { recipients: string[]; triggers: string[]; selector: string }

export function subscriptions(settings: Pick<RepoSettings, 'notifications'>): Subscription[] {
  const out: Subscription[] = [];
  if (settings.notifications?.github) {
    out.push({ recipients: ['github'], triggers: [TRIGGERS.previewDeployed, TRIGGERS.syncFailed, TRIGGERS.healthDegraded], selector: PREVIEW_SELECTOR });
  }
  if (settings.notifications?.webhook) {
    out.push({ recipients: [WEBHOOK_NAME], triggers: [TRIGGERS.syncFailed, TRIGGERS.healthDegraded], selector: PROTECTED_SELECTOR });
  }
  return out;
}

/** argocd-notifications-cm data bootstrap applies: triggers and templates always, services and subscriptions as gitops.yaml configures. */
export function notificationsConfig(settings: Pick<RepoSettings, 'previews' | 'notifications'>): Record<string, string> {
  const data: Record<string, string> = {};
  for (const [name, t] of Object.entries(triggers())) data[`trigger.${name}`] = toYaml(t);
  for (const [name, t] of Object.entries(templates(settings))) data[`template.${name}`] = toYaml(t);
  const github = settings.notifications?.github;
  if (github) data['service.github'] = toYaml({ appID: github.appID, installationID: github.installationID, privateKey: `$${SECRET_KEYS.githubPrivateKey}` });
  if (settings.notifications?.webhook) {
    data[`service.webhook.${WEBHOOK_NAME}`] = toYaml({ url: `$${SECRET_KEYS.webhookUrl}`, headers: [{ name: 'Content-Type', value: 'application/json' }] });
  }
  const subs = subscriptions(settings);
  if (subs.length > 0) data.subscriptions = toYaml(subs);
  const sorted: Record<string, string> = {};
  for (const k of Object.keys(data).sort()) sorted[k] = data[k]!;
  return sorted;
}
