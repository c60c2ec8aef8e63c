// Who gets a preview environment. The ApplicationSet creates one for every open pull request carrying
// gitops.yaml's previews.label; this decides which pull requests carry it, so that a busy repository
// cannot exhaust a small cluster: at most previews.maxConcurrent at once, none for a pull request without
// a push for previews.ttlHours, none for drafts, for forks without a maintainer's approval label, or for pull
// requests that change neither the API nor the manifests. Pure: pull requests, their timelines and now → plan.
//
// The clock is GitHub's, never the author's: a commit's author and committer dates are written by whoever
// made the commit (a 2099 date would keep a preview forever), so the TTL counts from the newest timeline
// event GitHub itself timestamps (`created_at`, GitHub REST 2022-11-28 "Timeline events" and "Issue event
// types", docs.github.com/en/rest/issues/timeline, docs.github.com/en/rest/using-the-rest-api/issue-event-types):
// the pull request opened, `labeled` with the preview or approval label, `head_ref_force_pushed`,
// `reopened`, `ready_for_review`. A plain push has no such event (a `committed` event carries only the
// commit's own dates), so it counts when GitHub runs .github/workflows/previews.yml for it (`synchronize`,
// passed as --pushed <number>): the run is GitHub's witness of the push.
import { UsageError } from '../core/errors.ts';
import type { PreviewSettings } from '../inputs/spec.ts';

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
  /** Since when it is active by GitHub's clock (ISO 8601): see previewClock. */
  activeSince: string;
  /** From a fork and carrying the approval label added by a maintainer (a person, not the bot). */
  approved?: boolean;
  /** The files the pull request changes. */
  files: readonly string[];
}

export interface PreviewDecision {
  number: number;
  action: 'add' | 'keep' | 'remove' | 'queue' | 'none';
  reason: string;
}

/** The label a maintainer adds to a fork's pull request to let it have a preview; the labeller never adds it. */
export function approvalLabelOf(cfg: Pick<PreviewSettings, 'label'>): string {
  return `${cfg.label}-approved`;
}

/** The accounts whose labels never count as a maintainer's: the workflow's own token acts as github-actions[bot]. */
export const DEFAULT_BOT_LOGINS: readonly string[] = ['github-actions[bot]'];

/** A timeline event as read from GitHub (scripts/lib/release/github.ts pullTimeline, validated there). */
export interface ClockEvent {
  event: string;
  createdAt?: string;
  actor?: { login: string; type?: string };
  label?: string;
}

/** Events whose GitHub-set `created_at` restarts a preview's TTL (labels: only the preview and approval labels). */
const ACTIVITY = new Set(['head_ref_force_pushed', 'reopened', 'ready_for_review']);
/** GitHub's clock and ours may differ a little; an event further in the future than this is bad data. */
const SKEW_MS = 10 * 60_000;

function instant(source: string, what: string, text: string, now: Date): number {
  const t = Date.parse(text);
  if (!Number.isFinite(t)) throw new UsageError(`${source}: ${what} ${JSON.stringify(text)} is not a date; nothing was changed`);
  if (t > now.getTime() + SKEW_MS) throw new UsageError(`${source}: ${what} ${JSON.stringify(text)} is in the future; nothing was changed`);
  return t;
}

/**
 * Since when a pull request is active by GitHub's clock, and whether a fork carries a maintainer's approval.
 * `pushedNow`: this run was started by GitHub for a push to it. Bad dates are refused (exit 2, the source
 * named), never turned into "NaN h" or a take-down.
 */
export function previewClock(
  pull: { number: number; createdAt: string; labels: readonly string[]; fromFork?: boolean },
  events: readonly ClockEvent[],
  opts: { label: string; now: Date; pushedNow?: boolean; botLogins?: readonly string[] },
): { activeSince: string; approved: boolean; approvedBy?: string; revokeApproval?: boolean } {
  const source = `GitHub timeline of #${pull.number}`;
  const approval = approvalLabelOf(opts);
  const bots = new Set((opts.botLogins ?? DEFAULT_BOT_LOGINS).map((l) => l.toLowerCase()));
  let latest = instant(`GitHub pull request #${pull.number}`, 'created_at', pull.createdAt, opts.now);
  let approvedBy: string | undefined;
  events.forEach((e, i) => {
    const counts = ACTIVITY.has(e.event) || (e.event === 'labeled' && (e.label === opts.label || e.label === approval));
    if (counts && e.createdAt !== undefined) latest = Math.max(latest, instant(source, `event ${i + 1} (${e.event}) created_at`, e.createdAt, opts.now));
    if (e.label !== approval) return;
    // The latest approval event decides: a person (type User) who is not the bot account; removing it revokes.
    if (e.event === 'labeled') approvedBy = e.actor && e.actor.type === 'User' && !bots.has(e.actor.login.toLowerCase()) ? e.actor.login : undefined;
    if (e.event === 'unlabeled') approvedBy = undefined;
  });
  if (opts.pushedNow) latest = Math.max(latest, opts.now.getTime());
  const approved = approvedBy !== undefined && pull.labels.includes(approval);
  // A fork pushed to after its approval runs code no maintainer has seen: the approval is taken back.
  if (opts.pushedNow && pull.fromFork && pull.labels.includes(approval)) return { activeSince: new Date(latest).toISOString(), approved: false, revokeApproval: true };
  return { activeSince: new Date(latest).toISOString(), approved, ...(approved ? { approvedBy } : {}) };
}

/** One decision per open pull request, by number. */
export function planPreviews(pulls: readonly OpenPull[], cfg: Pick<PreviewSettings, 'label' | 'maxConcurrent' | 'ttlHours'>, now: Date): PreviewDecision[] {
  const ttlMs = cfg.ttlHours * 3_600_000;
  const why = (p: OpenPull): string | undefined => {
    if (p.draft) return 'draft';
    if (p.fromFork && !p.approved) return `from a fork: needs the ${approvalLabelOf(cfg)} label from a maintainer`;
    if (!changesDeployables(p.files)) return 'changes neither the API nor the manifests';
    const age = now.getTime() - instant(`pull request #${p.number}`, 'activeSince', p.activeSince, now);
    if (age > ttlMs) return `no push or label for ${Math.floor(age / 3_600_000)} h (previews.ttlHours ${cfg.ttlHours})`;
    return undefined;
  };
  // One entry per number: a listing that repeats a pull request counts it once against the cap.
  const unique = new Map<number, OpenPull>();
  for (const p of pulls) if (!unique.has(p.number)) unique.set(p.number, p);
  const sorted = [...unique.values()].sort((a, b) => a.number - b.number);
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
      return `**Preview:** taken down — ${d.reason}. Push a commit (or, for a fork, ask a maintainer for the approval label) to get it back.`;
    default:
      return `**Preview:** none — ${d.reason}.`;
  }
}
