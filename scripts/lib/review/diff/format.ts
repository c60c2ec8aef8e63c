// Printing a review: plain text for terminals, JSON for tools, and markdown for pull-request comments,
// split into several comments when GitHub's comment limit would be exceeded (never truncated).
import { idLabel } from '../../render/normalize.ts';
import { style } from '../../core/term.ts';
import type { Style } from '../../core/term.ts';
import type { Finding } from '../validate/validate.ts';
import type { EnvironmentDiff, ResourceChange } from './diffRenders.ts';
import type { EnvironmentSummary, SourceRef, SummaryItem } from './summary.ts';
import { httpUrl } from './links.ts';

/** A side of the comparison: the ref asked for, and the commit it named (for headers). */
export interface CommitInfo {
  ref: string;
  /** Short SHA (of HEAD, for the working tree). */
  sha: string;
  subject: string;
  /** The head is the working tree: uncommitted changes on top of `sha`. */
  workingTree?: boolean;
}

export interface ReviewedEnvironment extends EnvironmentDiff {
  /** What changed, in a reviewer's words (absent for the --live source). */
  summary?: EnvironmentSummary;
}

export interface DiffReport {
  base: string;
  head: string;
  baseCommit?: CommitInfo;
  headCommit?: CommitInfo;
  /** "kubectl kustomize v5.5.0 (kubectl v1.32.4)" */
  kustomize?: string;
  /** Environments the changed files reach (rendered on both sides), sorted. */
  reached: string[];
  /** Those with a difference, sorted. */
  envs: ReviewedEnvironment[];
  /** Policy findings on the head renders of the changed environments (HTML output only). */
  findings?: Finding[];
}

export type DiffFormat = 'text' | 'markdown' | 'json' | 'html';

export interface FormatOptions {
  /** Colour (text only). */
  color?: boolean;
  /** URL that repository paths are appended to for source links, e.g. https://github.com/o/r/blob/<sha>. */
  sourceUrl?: string;
  /** Markdown: a link to the HTML page of the same diff (the PR workflow's artifact). */
  pageUrl?: string;
}

/** GitHub rejects issue and pull-request comments longer than this many characters. */
export const GITHUB_COMMENT_LIMIT = 65_536;
/** Every comment starts with this marker so the workflow can find and update its own comments. */
export const COMMENT_MARKER = '<!-- gitops-render-diff';
/** Between comments in the markdown output on stdout. */
export const COMMENT_SEPARATOR = '\n<!-- gitops-render-diff:next-comment -->\n';

const SYMBOL: Record<ResourceChange['status'], string> = { added: '+', changed: '~', removed: '-' };

function countsText(d: EnvironmentDiff): string {
  return `${d.counts.added} added, ${d.counts.changed} changed, ${d.counts.removed} removed`;
}

function notes(c: ResourceChange): string[] {
  const out: string[] = [];
  if (c.renamedFrom) out.push(`generated name changed from ${c.renamedFrom} (content hash)`);
  if (c.rolls) out.push(c.rolls.length > 0 ? `rolls: ${c.rolls.join(', ')}` : 'rolls: no workload references it');
  return out;
}

/** "1a2b3c4 subject" or "working tree (uncommitted, on 1a2b3c4 subject)". */
export function commitText(c: CommitInfo | undefined): string | undefined {
  if (!c) return undefined;
  const at = `${c.sha}${c.subject ? ` ${c.subject}` : ''}`;
  return c.workingTree ? `working tree (uncommitted changes on ${at})` : `${c.ref === c.sha ? '' : `${c.ref} = `}${at}`;
}

/** Values in one line: long ones shortened (the diff below holds them whole). */
export function shortValue(v: string | undefined, max = 60): string {
  if (v === undefined) return '(none)';
  const one = v.replace(/\n/g, '⏎');
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

export function sourceText(s: SourceRef): string {
  return `${s.file}${s.line ? `:${s.line}` : ''} ${s.field}`;
}

const ITEM_LABEL: Record<SummaryItem['kind'], string> = {
  image: 'image', config: 'config', secret: 'secret', replicas: 'replicas', resources: 'resources',
  mongodb: 'MongoDB', sync: 'sync', added: 'added', removed: 'removed', monitoring: 'monitoring',
};

/** "image  users-api 0.1.0 → 0.2.0  (Deployment prod/users-api)". */
export function itemText(i: SummaryItem): string {
  if (i.kind === 'added' || i.kind === 'removed') return `${ITEM_LABEL[i.kind]} ${i.what}`;
  const change = i.from === undefined ? `added: ${shortValue(i.to)}` : i.to === undefined ? `removed (was ${shortValue(i.from)})` : `${shortValue(i.from)} → ${shortValue(i.to)}`;
  const what = i.kind === 'replicas' ? '' : `${i.what} `;
  return `${ITEM_LABEL[i.kind]} ${what}${change} (${i.resource})`;
}

function headerLines(report: DiffReport): string[] {
  const lines = [`render diff ${report.base} → ${report.head}`];
  const b = commitText(report.baseCommit);
  const h = commitText(report.headCommit);
  if (b) lines.push(`  base: ${b}`);
  if (h) lines.push(`  head: ${h}`);
  if (report.kustomize) lines.push(`  kustomize: ${report.kustomize}`);
  return lines;
}

function envTitle(d: ReviewedEnvironment): string {
  return `${d.env}${d.status === 'changed' ? '' : ` (environment ${d.status})`}`;
}

export function formatText(report: DiffReport, options: FormatOptions = {}): string {
  const c: Style = style(options.color === true);
  const lines = headerLines(report).map((l, i) => (i === 0 ? c.bold(l) : c.dim(l)));
  if (report.envs.length === 0) {
    lines.push(report.reached.length === 0 ? 'no environment is reached by the changed files' : `no difference in ${report.reached.join(', ')}`);
    return `${lines.join('\n')}\n`;
  }
  lines.push('', c.bold('summary'));
  for (const d of report.envs) lines.push(`  ${c.bold(envTitle(d))}: ${d.summary?.verdict ?? countsText(d)}`);
  for (const d of report.envs) {
    lines.push('', c.bold(`== ${envTitle(d)}: ${countsText(d)}`));
    for (const i of d.summary?.items ?? []) {
      if (i.kind === 'added' || i.kind === 'removed') continue; // listed with their diff below
      lines.push(`   ${itemText(i)}${i.source ? c.dim(`  ← ${sourceText(i.source)}`) : ''}`);
    }
    for (const ch of d.changes) {
      const from = sourcesOfChange(d, ch).map(sourceText);
      lines.push(c.yellow(`${SYMBOL[ch.status]} ${idLabel(ch.id)}`) + notes(ch).map((n) => `\n    ${n}`).join('') + (from.length > 0 ? c.dim(`\n    from ${from.join(', ')}`) : ''));
      lines.push(...ch.patch.split('\n').map((l) => `    ${l[0] === '+' ? c.green(l) : l[0] === '-' ? c.red(l) : l.startsWith('@@') ? c.cyan(l) : l}`));
    }
  }
  return `${lines.join('\n')}\n`;
}

export function formatJson(report: DiffReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

function fence(text: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const f = '`'.repeat(longest + 1);
  return `${f}diff\n${text}\n${f}`;
}

function escapeMd(s: string): string {
  return s.replace(/[|<>*_`[\]]/g, (c) => `\\${c}`);
}

/** An inline code span that survives backticks in the value. */
function code(s: string): string {
  const longest = Math.max(0, ...[...s.matchAll(/`+/g)].map((m) => m[0].length));
  const f = '`'.repeat(longest + 1);
  return `${f}${longest > 0 || s.startsWith('`') || s.endsWith('`') ? ` ${s} ` : s}${f}`;
}

function commitMd(c: CommitInfo | undefined, label: string): string | undefined {
  if (!c) return undefined;
  const subject = c.subject ? ` ${escapeMd(c.subject)}` : '';
  return c.workingTree ? `${label}: working tree (uncommitted changes on ${code(c.sha)}${subject})` : `${label}: ${code(c.sha)}${subject}`;
}

export function sourceLink(s: SourceRef, sourceUrl: string | undefined): string {
  const where = `${s.file}${s.line ? `#L${s.line}` : ''}`;
  const text = `${escapeMd(s.file)}: ${escapeMd(s.field)}`;
  // Only http(s) is ever linked (links.ts): any other scheme is shown as text.
  return sourceUrl && httpUrl(sourceUrl) !== undefined ? `[${text}](${sourceUrl.replace(/\/$/, '')}/${where})` : text;
}

function itemMd(i: SummaryItem, sourceUrl: string | undefined): string {
  const change = i.from === undefined ? `added ${code(shortValue(i.to))}` : i.to === undefined ? `removed (was ${code(shortValue(i.from))})` : `${code(shortValue(i.from))} → ${code(shortValue(i.to))}`;
  const what = i.kind === 'replicas' ? '' : `${escapeMd(i.what)} `;
  const from = i.source ? ` — ${sourceLink(i.source, sourceUrl)}` : '';
  return `* ${ITEM_LABEL[i.kind]} ${what}${change} in ${escapeMd(i.resource)}${from}`;
}

function summary(report: DiffReport, pageUrl?: string): string {
  const lines = [`### Rendered manifests: \`${report.base}\` → \`${report.head}\``, ''];
  if (pageUrl && httpUrl(pageUrl) !== undefined && report.envs.length > 0) lines.push(`**[Review page](${pageUrl})**: the same diff as one self-contained HTML file (side by side, highlighted, policy findings beside each resource; download and open it).`, '');
  const about = [commitMd(report.baseCommit, 'Base'), commitMd(report.headCommit, 'Head'), report.kustomize ? `Kustomize: ${escapeMd(report.kustomize)}` : undefined].filter(Boolean);
  if (about.length > 0) lines.push(about.join('<br>'), '');
  if (report.envs.length === 0) {
    lines.push(report.reached.length === 0 ? 'No environment is reached by the changed files.' : `No difference in ${report.reached.join(', ')}.`);
    return lines.join('\n');
  }
  lines.push('| Environment | Added | Changed | Removed | What changed |', '|---|---:|---:|---:|---|');
  for (const d of report.envs) {
    lines.push(`| ${escapeMd(d.env)}${d.status === 'changed' ? '' : ` (${d.status})`} | ${d.counts.added} | ${d.counts.changed} | ${d.counts.removed} | ${escapeMd(d.summary?.verdict ?? '')} |`);
  }
  const same = report.reached.filter((e) => !report.envs.some((d) => d.env === e));
  if (same.length > 0) lines.push('', `Rendered without difference: ${same.join(', ')}.`);
  return lines.join('\n');
}

/** The source lines (env.yaml / .env) the summary traced this resource's changes to, once each. */
export function sourcesOfChange(d: ReviewedEnvironment, c: ResourceChange): SourceRef[] {
  const label = idLabel(c.id);
  const seen = new Map<string, SourceRef>();
  for (const i of d.summary?.items ?? []) if (i.resource === label && i.source) seen.set(`${i.source.file}\0${i.source.field}`, i.source);
  return [...seen.values()];
}

/** A change as markdown shows it: with its source links already rendered. */
type ShownChange = ResourceChange & { fromMd?: string };

function shown(d: ReviewedEnvironment, c: ResourceChange, sourceUrl: string | undefined): ShownChange {
  const from = sourcesOfChange(d, c);
  return from.length > 0 ? { ...c, fromMd: `from ${from.map((f) => sourceLink(f, sourceUrl)).join(', ')}` } : c;
}

function resourceBlock(c: ShownChange, patch: string = c.patch): string {
  const head = `**${SYMBOL[c.status]} ${escapeMd(idLabel(c.id))}**${notes(c).map((n) => `<br>${escapeMd(n)}`).join('')}${c.fromMd ? `<br>${c.fromMd}` : ''}`;
  return `${head}\n\n${fence(patch)}\n`;
}

function envOpen(d: ReviewedEnvironment, continued: string, sourceUrl?: string): string {
  const items = continued === '' || continued.includes('part 1 ') ? (d.summary?.items ?? []).filter((i) => i.kind !== 'added' && i.kind !== 'removed') : [];
  const list = items.length > 0 ? `${items.map((i) => itemMd(i, sourceUrl)).join('\n')}\n\n` : '';
  const verdict = d.summary?.verdict ? ` — ${escapeMd(d.summary.verdict)}` : '';
  return `<details><summary><b>${escapeMd(d.env)}</b>${continued}: ${countsText(d)}${verdict}</summary>\n\n${list}`;
}
const ENV_CLOSE = '\n</details>\n';

/** A resource whose diff alone exceeds `budget` is cut at line boundaries into several blocks. */
function resourcePieces(c: ShownChange, budget: number): string[] {
  const whole = resourceBlock(c);
  if (whole.length <= budget) return [whole];
  const pieces: string[] = [];
  let current: string[] = [];
  let size = 0;
  const overhead = resourceBlock(c, '').length + 120;
  for (const line of c.patch.split('\n')) {
    // A single line longer than a comment (never seen: lineWidth 0 YAML lines are field-sized) is cut.
    const chunk = line.length + 1 > budget - overhead ? line.slice(0, budget - overhead - 1) : line;
    if (size + chunk.length + 1 > budget - overhead && current.length > 0) {
      pieces.push(current.join('\n'));
      current = [];
      size = 0;
    }
    current.push(chunk);
    size += chunk.length + 1;
  }
  if (current.length > 0) pieces.push(current.join('\n'));
  return pieces.map((p, i) => `${resourceBlock(c, p)}${i < pieces.length - 1 ? `\n_(this resource's diff continues in the next comment: part ${i + 2} of ${pieces.length})_\n` : ''}`);
}

/**
 * Markdown comments, each at most `limit` characters: the summary table first, then one collapsible
 * section per environment. Sections are packed into comments by environment; an environment larger than
 * one comment is split by resource, each part saying that it continues.
 */
/**
 * Splits `items`, in order, into consecutive groups whose joined size (one separator each) stays
 * within `room`; an item larger than `room` gets a group of its own rather than being cut.
 */
function packInOrder(items: readonly string[], room: number): string[][] {
  const groups: string[][] = [];
  let group: string[] = [];
  let size = 0;
  for (const item of items) {
    if (size + item.length + 1 > room && group.length > 0) {
      groups.push(group);
      group = [];
      size = 0;
    }
    group.push(item);
    size += item.length + 1;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

export function formatMarkdown(report: DiffReport, limit: number = GITHUB_COMMENT_LIMIT, options: FormatOptions = {}): string[] {
  const headerRoom = 200; // the per-comment marker and "part i of n" line
  const budget = limit - headerRoom;
  const blocks: string[] = [`${summary(report, options.pageUrl)}\n`];
  for (const d of report.envs) {
    const changes = d.changes.map((c) => shown(d, c, options.sourceUrl));
    const whole = envOpen(d, '', options.sourceUrl) + changes.map((c) => resourceBlock(c)).join('\n') + ENV_CLOSE;
    if (whole.length <= budget) {
      blocks.push(whole);
      continue;
    }
    // Too large for one comment: one section per group of resources that fits.
    const room = budget - envOpen(d, ' (part 1 of 999)', options.sourceUrl).length - ENV_CLOSE.length - 200;
    const pieces = changes.flatMap((c) => resourcePieces(c, room));
    const groups = packInOrder(pieces, room);
    groups.forEach((g, i) => {
      const label = ` (part ${i + 1} of ${groups.length})`;
      const note = `_${escapeMd(d.env)} is too large for one comment: it is split by resource into ${groups.length} parts._\n\n`;
      blocks.push(envOpen(d, label, options.sourceUrl) + note + g.join('\n') + ENV_CLOSE);
    });
  }
  const comments = packInOrder(blocks, budget);
  const n = comments.length;
  return comments.map((c, i) => {
    const marker = `${COMMENT_MARKER} part ${i + 1} -->`;
    const part = n > 1 ? `_Comment ${i + 1} of ${n}: the diff is longer than one GitHub comment allows, so it is split by environment._\n\n` : '';
    return `${marker}\n${part}${c.join('\n')}`;
  });
}

/** text, markdown or json (the HTML page is scripts/lib/review/diff/html.ts: it loads diff2html, so only its path pays). */
export function formatReport(report: DiffReport, format: Exclude<DiffFormat, 'html'>, limit?: number, options: FormatOptions = {}): string {
  if (format === 'json') return formatJson(report);
  if (format === 'markdown') return `${formatMarkdown(report, limit, options).join(COMMENT_SEPARATOR)}\n`;
  return formatText(report, options);
}
