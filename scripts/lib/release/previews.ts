// Who gets a preview environment. The ApplicationSet creates one for every open pull request carrying
// gitops.yaml's previews.label; this decides which pull requests carry it, so that a busy repository
// cannot exhaust a small cluster: at most previews.maxConcurrent at once, none for a pull request without
// a push for previews.ttlHours, none for drafts, for forks (the release workflow cannot push their image)
// or for pull requests that change neither the API nor the manifests. Pure: pull requests and now → plan.
import type { PreviewSettings } from '../spec.ts';

/** Paths whose change makes a pull request worth a preview (the API, its image, what deploys it). */
export const DEPLOYABLE_PREFIXES: readonly string[] = ['apps/users-api/', 'Dockerfile', 'package.json', 'package-lock.json', 'overlays/', 'previews/', 'platform/', 'gitops.yaml'];

export function changesDeployables(files: readonly string[]): boolean {
  return files.some((f) => DEPLOYABLE_PREFIXES.some((p) => (p.endsWith('/') ? f.startsWith(p) : f === p)));
}

export interface OpenPull {
  number: number;
  labels: readonly string[];
  draft: boolean;
  /** The head branch lives in another repository. */
  fromFork: boolean;
  /** When the head commit was pushed (its committer date, ISO 8601). */
  lastPushAt: string;
  /** The files the pull request changes. */
  files: readonly string[];
}

export interface PreviewDecision {
  number: number;
  action: 'add' | 'keep' | 'remove' | 'queue' | 'none';
  reason: string;
}

/** One decision per open pull request, by number. */
export function planPreviews(pulls: readonly OpenPull[], cfg: Pick<PreviewSettings, 'label' | 'maxConcurrent' | 'ttlHours'>, now: Date): PreviewDecision[] {
  const ttlMs = cfg.ttlHours * 3_600_000;
  const why = (p: OpenPull): string | undefined => {
    if (p.draft) return 'draft';
    if (p.fromFork) return 'from a fork: the release workflow cannot push its image';
    if (!changesDeployables(p.files)) return 'changes neither the API nor the manifests';
    const age = now.getTime() - Date.parse(p.lastPushAt);
    if (!(age <= ttlMs)) return `no push for ${Math.floor(age / 3_600_000)} h (previews.ttlHours ${cfg.ttlHours})`;
    return undefined;
  };
  const sorted = [...pulls].sort((a, b) => a.number - b.number);
  const decisions = new Map<number, PreviewDecision>();
  // Running previews keep their place first (oldest pull request first), then the cap admits new ones.
  let running = 0;
  for (const p of sorted) {
    const labelled = p.labels.includes(cfg.label);
    const reason = why(p);
    if (!labelled) continue;
    if (reason) decisions.set(p.number, { number: p.number, action: 'remove', reason });
    else if (running < cfg.maxConcurrent) {
      running++;
      decisions.set(p.number, { number: p.number, action: 'keep', reason: 'running' });
    } else decisions.set(p.number, { number: p.number, action: 'remove', reason: `over previews.maxConcurrent (${cfg.maxConcurrent})` });
  }
  for (const p of sorted) {
    if (decisions.has(p.number)) continue;
    const reason = why(p);
    if (reason) decisions.set(p.number, { number: p.number, action: 'none', reason });
    else if (running < cfg.maxConcurrent) {
      running++;
      decisions.set(p.number, { number: p.number, action: 'add', reason: 'changes the API or the manifests' });
    } else decisions.set(p.number, { number: p.number, action: 'queue', reason: `${cfg.maxConcurrent} previews are running (previews.maxConcurrent); it gets one when one ends` });
  }
  return sorted.map((p) => decisions.get(p.number)!);
}

/** The line the pull request's diff comment carries about its preview. */
export function previewLine(d: PreviewDecision | undefined, host: string | undefined, application: string): string {
  if (!d) return '';
  switch (d.action) {
    case 'add':
    case 'keep':
      return `**Preview:** ${host ? `https://${host}` : 'no ingress (previews.ingress unset)'} — Argo CD Application \`${application}\`, namespace \`${application.replace(/-users-api$/, '')}\`; it follows every push and is removed with its database when the pull request closes.`;
    case 'queue':
      return `**Preview:** queued — ${d.reason}.`;
    case 'remove':
      return `**Preview:** taken down — ${d.reason}. Push a commit to get it back.`;
    default:
      return `**Preview:** none — ${d.reason}.`;
  }
}
