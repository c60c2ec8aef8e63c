// Argo CD Notifications as bootstrap configures them, fed the Application of a healthy and of a degraded
// preview: templates rendered by Go's text/template with Sprig, as the notifications controller renders
// them (test/support/go-template/main.go), trigger conditions evaluated by an exact evaluator of the
// expr-lang subset they are written in (test/support/expr-subset.ts), subscriptions matched against the
// labels of the generated Applications.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notificationsConfig, SECRET_KEYS, TEMPLATES, TRIGGERS } from '../../scripts/lib/cluster/bootstrap/notifications.ts';
import { readBootstrapInputs } from '../../scripts/lib/cluster/bootstrap/inputs.ts';
import { parseYamlStream } from '../../scripts/lib/core/yaml.ts';

const parseYaml = (text: string): unknown => parseYamlStream(text)[0];
import { committedSettings, REPO } from '../generator/support.ts';
import { loadSettings } from '../../scripts/lib/inputs/index.ts';
import { evalCondition, ExprError } from '../support/expr-subset.ts';

const SHA = '3f9c2a1b7d4e5f60718293a4b5c6d7e8f9012345';
const withNotifications = () => {
  const s = loadSettings('gitops.yaml', readFileSync(join(REPO, 'gitops.yaml'), 'utf8')).settings!;
  return { ...s, notifications: { github: { appID: 123456, installationID: 7890123 }, webhook: true } };
};

/** An Argo CD Application of preview pr-42 after a sync, as the API serves it (status fields of argo-cd v3.5.1's CRD). */
function previewApp(health: 'Healthy' | 'Degraded' | 'Progressing', phase: 'Succeeded' | 'Failed' | 'Running' = 'Succeeded'): Record<string, unknown> {
  const resources = [
    { group: 'apps', version: 'v1', kind: 'Deployment', namespace: 'pr-42', name: 'users-api', status: 'Synced',
      health: health === 'Degraded' ? { status: 'Degraded', message: 'Deployment "users-api" exceeded its progress deadline' } : { status: health } },
    { version: 'v1', kind: 'Service', namespace: 'pr-42', name: 'users-api', status: 'Synced', health: { status: 'Healthy' } },
    { version: 'v1', kind: 'ConfigMap', namespace: 'pr-42', name: 'users-api-config-7h2f9', status: 'Synced' },
  ];
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name: 'pr-42-users-api', namespace: 'argocd', labels: { environment: 'pr-42', preview: 'true' } },
    spec: { project: 'previews', destination: { namespace: 'pr-42', server: 'https://kubernetes.default.svc' }, source: { repoURL: 'https://github.com/example-org/gitops-users.git', path: 'previews/template', targetRevision: SHA } },
    status: {
      sync: { status: 'Synced', revision: SHA },
      health: { status: health, lastTransitionTime: '2026-12-04T15:00:00Z' },
      resources,
      operationState: {
        phase,
        message: phase === 'Failed' ? 'one or more objects failed to apply, reason: admission webhook denied the request' : 'successfully synced (all tasks run)',
        startedAt: '2026-12-04T14:58:00Z',
        finishedAt: '2026-12-04T14:59:00Z',
        syncResult: { revision: SHA },
      },
    },
  };
}

/** Every string leaf of a template, by dotted path (the fields notifications-engine parses as templates). */
function leaves(value: unknown, prefix = ''): Record<string, string> {
  if (typeof value === 'string') return { [prefix]: value };
  const out: Record<string, string> = {};
  if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) Object.assign(out, leaves(v, prefix ? `${prefix}.${k}` : k));
  return out;
}

const goVersion = spawnSync('go', ['version'], { encoding: 'utf8' });
const haveGo = goVersion.status === 0;
if (!haveGo && process.env.CI === 'true') throw new Error('go is missing (Debian golang-go and golang-github-masterminds-sprig-dev)');

describe.skipIf(!haveGo)(`Argo CD notification templates rendered by Go text/template + Sprig (${haveGo ? goVersion.stdout.trim() : 'go missing'})`, () => {
  let dir: string;
  let bin: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gotemplate-'));
    bin = join(dir, 'gotemplate');
    execFileSync('go', ['build', '-o', bin, join(REPO, 'test/support/go-template/main.go')], { env: { ...process.env, GOPATH: '/usr/share/gocode', GO111MODULE: 'off', GOCACHE: join(dir, 'cache') }, stdio: 'pipe' });
  }, 180_000);
  afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

  function render(template: string, app: Record<string, unknown>): Record<string, string> {
    const fields = leaves(parseYaml(notificationsConfig(withNotifications())[`template.${template}`]!));
    const out = JSON.parse(execFileSync(bin, { input: JSON.stringify({ templates: fields, vars: { app, context: {}, serviceType: 'github', recipient: '' } }), encoding: 'utf8' })) as Record<string, { out: string; err?: string }>;
    for (const [k, r] of Object.entries(out)) if (r.err) throw new Error(`${template} ${k}: ${r.err}`);
    return Object.fromEntries(Object.entries(out).map(([k, r]) => [k, r.out]));
  }

  it('a healthy preview: the pull request comment says healthy, with the revision and its URL; the commit status is success', () => {
    const r = render(TEMPLATES.previewHealth, previewApp('Healthy'));
    expect(r['github.pullRequestComment.content']).toBe([
      '### Preview pr-42: healthy',
      '',
      'Synced revision `3f9c2a1` (sync Synced). Health: **Healthy**',
      '',
      'URL: http://pr-42.preview.example.com/users',
      '',
      'Argo CD Application `pr-42-users-api`; users-api pods and MongoDB in namespace `pr-42`.',
    ].join('\n'));
    expect(r['github.pullRequestComment.commentTag']).toBe('preview-pr-42-users-api');
    expect(r['github.status.state']).toBe('success');
    expect(r['github.status.label']).toBe('argocd/pr-42-users-api');
    expect(r['github.status.targetURL']).toBe('http://pr-42.preview.example.com/users');
    expect(r.message).toBe('Preview pr-42 synced at 3f9c2a1: Healthy');
  });

  it('a degraded preview: the comment names the degraded resource and its message; the commit status is failure', () => {
    const r = render(TEMPLATES.previewHealth, previewApp('Degraded'));
    expect(r['github.pullRequestComment.content']).toContain('### Preview pr-42: degraded');
    expect(r['github.pullRequestComment.content']).toContain('Health: **Degraded**: Deployment/users-api (Deployment "users-api" exceeded its progress deadline);');
    expect(r['github.pullRequestComment.content']).not.toContain('Service/users-api');
    expect(r['github.status.state']).toBe('failure');
    const d = render(TEMPLATES.healthDegraded, previewApp('Degraded'));
    expect(d.message).toBe('pr-42 (pr-42-users-api) is Degraded at 3f9c2a1: Deployment/users-api (Deployment "users-api" exceeded its progress deadline);');
    expect(JSON.parse(d['webhook.protected-environments.body']!)).toEqual({ event: 'health-degraded', application: 'pr-42-users-api', namespace: 'pr-42', revision: SHA, sync: 'Synced', health: 'Degraded' });
  });

  it('a failed sync: the message and the webhook body (valid JSON) carry the operation\'s message', () => {
    const r = render(TEMPLATES.syncFailed, previewApp('Progressing', 'Failed'));
    expect(r.message).toBe('Sync of pr-42 (pr-42-users-api) failed at 3f9c2a1: one or more objects failed to apply, reason: admission webhook denied the request');
    expect(JSON.parse(r['webhook.protected-environments.body']!)).toMatchObject({ event: 'sync-failed', message: 'one or more objects failed to apply, reason: admission webhook denied the request' });
    expect(r['webhook.protected-environments.method']).toBe('POST');
  });

  it('the evaluator is Argo CD\'s, not a lenient one: an unknown function and Sprig\'s env (removed by notifications-engine) are errors', () => {
    const out = JSON.parse(execFileSync(bin, { input: JSON.stringify({ templates: { a: '{{ .app.metadata.name | nosuchfunc }}', b: '{{ env "HOME" }}', c: '{{ .app.metadata.name | upper }}' }, vars: { app: previewApp('Healthy') } }), encoding: 'utf8' })) as Record<string, { out: string; err?: string }>;
    expect(out.a!.err).toMatch(/function "nosuchfunc" not defined/);
    expect(out.b!.err).toMatch(/function "env" not defined/);
    expect(out.c!.out).toBe('PR-42-USERS-API');
  });
});

describe('trigger conditions (expr-lang subset, evaluated exactly)', () => {
  const config = notificationsConfig(withNotifications());
  const trigger = (name: string) => (parseYaml(config[`trigger.${name}`]!) as Array<{ when: string; send: string[]; oncePer?: string }>)[0]!;
  const fires = (name: string, app: Record<string, unknown>) => evalCondition(trigger(name).when, { app });

  it('preview deployed: after a successful sync once health settled, healthy or degraded; not while progressing, running or failed', () => {
    expect(fires(TRIGGERS.previewDeployed, previewApp('Healthy'))).toBe(true);
    expect(fires(TRIGGERS.previewDeployed, previewApp('Degraded'))).toBe(true);
    expect(fires(TRIGGERS.previewDeployed, previewApp('Progressing'))).toBe(false);
    expect(fires(TRIGGERS.previewDeployed, previewApp('Healthy', 'Running'))).toBe(false);
    expect(fires(TRIGGERS.previewDeployed, previewApp('Healthy', 'Failed'))).toBe(false);
    expect(trigger(TRIGGERS.previewDeployed).send).toEqual([TEMPLATES.previewHealth]);
  });

  it('sync failed and health degraded fire on their state only', () => {
    expect(fires(TRIGGERS.syncFailed, previewApp('Progressing', 'Failed'))).toBe(true);
    expect(fires(TRIGGERS.syncFailed, previewApp('Healthy'))).toBe(false);
    expect(fires(TRIGGERS.healthDegraded, previewApp('Degraded'))).toBe(true);
    expect(fires(TRIGGERS.healthDegraded, previewApp('Healthy'))).toBe(false);
  });

  it('an Application that never synced (no status.operationState, no status at all) makes no trigger fail', () => {
    const fresh = previewApp('Progressing');
    delete (fresh.status as Record<string, unknown>).operationState;
    for (const t of Object.values(TRIGGERS)) expect(fires(t, fresh)).toBe(false);
    for (const t of Object.values(TRIGGERS)) expect(fires(t, { metadata: { name: 'x' } })).toBe(false);
    // Without `?.` the same condition is an error in expr-lang: the evaluator says so (it can fail).
    expect(() => evalCondition("app.status.operationState.phase in ['Failed']", { app: fresh })).toThrow(ExprError);
    expect(() => evalCondition("app.status?.operationState.phase in ['Failed']", { app: fresh })).toThrow(ExprError);
  });
});

describe('services, subscriptions and secrets', () => {
  const labelsOf = (file: string, path: (o: Record<string, any>) => Record<string, string>) =>
    path(parseYamlStream(readFileSync(join(REPO, file), 'utf8'))[0] as Record<string, any>);
  const matches = (selector: string, labels: Record<string, string>) => selector.split(',').every((kv) => { const [k, v] = kv.split('='); return labels[k!] === v; });

  it('previews subscribe the GitHub service, protected environments the webhook; each selector matches the generated Applications\' labels', () => {
    const subs = parseYaml(notificationsConfig(withNotifications()).subscriptions!) as Array<{ recipients: string[]; triggers: string[]; selector: string }>;
    const preview = labelsOf('argocd/previews.yaml', (o) => o.spec.template.metadata.labels);
    const prod = labelsOf('argocd/apps/prod.yaml', (o) => o.metadata.labels);
    const dev = labelsOf('argocd/apps/dev.yaml', (o) => o.metadata.labels);
    const github = subs.find((s) => s.recipients.includes('github'))!;
    expect(github.triggers).toContain(TRIGGERS.previewDeployed);
    expect(matches(github.selector, preview)).toBe(true);
    expect(matches(github.selector, prod)).toBe(false);
    const webhook = subs.find((s) => s.recipients.includes('protected-environments'))!;
    expect(matches(webhook.selector, prod)).toBe(true);
    expect(matches(webhook.selector, dev)).toBe(false);
  });

  it('secrets are references to argocd-notifications-secret keys, never values', () => {
    const config = notificationsConfig(withNotifications());
    expect(parseYaml(config['service.github']!)).toEqual({ appID: 123456, installationID: 7890123, privateKey: `$${SECRET_KEYS.githubPrivateKey}` });
    expect(parseYaml(config['service.webhook.protected-environments']!)).toMatchObject({ url: `$${SECRET_KEYS.webhookUrl}` });
  });

  it('without gitops.yaml notifications, bootstrap still installs the triggers and templates, and no service or subscription', async () => {
    const inputs = await readBootstrapInputs(REPO);
    const keys = Object.keys(inputs.notifications ?? {});
    expect(keys).toEqual(expect.arrayContaining([`trigger.${TRIGGERS.syncFailed}`, `trigger.${TRIGGERS.healthDegraded}`, `trigger.${TRIGGERS.previewDeployed}`, `template.${TEMPLATES.previewHealth}`]));
    expect(keys.filter((k) => k.startsWith('service.') || k === 'subscriptions')).toEqual([]);
    expect(committedSettings().notifications).toBeUndefined();
  });
});
