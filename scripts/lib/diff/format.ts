// Printing a review: plain text for terminals, JSON for tools, and markdown for pull-request comments,
// split into several comments when GitHub's comment limit would be exceeded (never truncated).
import { idLabel } from '../render/normalize.ts';
import type { EnvironmentDiff, ResourceChange } from './diffRenders.ts';

export interface DiffReport {
  base: string;
  head: string;
  /** Environments the changed files reach (rendered on both sides), sorted. */
  reached: string[];
  /** Those with a difference, sorted. */
  envs: EnvironmentDiff[];
}

export type DiffFormat = 'text' | 'markdown' | 'json';

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

export function formatText(report: DiffReport): string {
  const lines = [`render diff ${report.base} → ${report.head}`];
  if (report.envs.length === 0) {
    lines.push(report.reached.length === 0 ? 'no environment is reached by the changed files' : `no difference in ${report.reached.join(', ')}`);
    return `${lines.join('\n')}\n`;
  }
  for (const d of report.envs) {
    lines.push('', `== ${d.env}${d.status === 'changed' ? '' : ` (environment ${d.status})`}: ${countsText(d)}`);
    for (const c of d.changes) {
      lines.push(`${SYMBOL[c.status]} ${idLabel(c.id)}${notes(c).map((n) => `\n    ${n}`).join('')}`);
      lines.push(...c.patch.split('\n').map((l) => `    ${l}`));
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

function summary(report: DiffReport): string {
  const lines = [`### Rendered manifests: \`${report.base}\` → \`${report.head}\``, ''];
  if (report.envs.length === 0) {
    lines.push(report.reached.length === 0 ? 'No environment is reached by the changed files.' : `No difference in ${report.reached.join(', ')}.`);
    return lines.join('\n');
  }
  lines.push('| Environment | Added | Changed | Removed |', '|---|---:|---:|---:|');
  for (const d of report.envs) {
    lines.push(`| ${escapeMd(d.env)}${d.status === 'changed' ? '' : ` (${d.status})`} | ${d.counts.added} | ${d.counts.changed} | ${d.counts.removed} |`);
  }
  const same = report.reached.filter((e) => !report.envs.some((d) => d.env === e));
  if (same.length > 0) lines.push('', `Rendered without difference: ${same.join(', ')}.`);
  return lines.join('\n');
}

function resourceBlock(c: ResourceChange, patch: string = c.patch): string {
  const head = `**${SYMBOL[c.status]} ${escapeMd(idLabel(c.id))}**${notes(c).map((n) => `<br>${escapeMd(n)}`).join('')}`;
  return `${head}\n\n${fence(patch)}\n`;
}

function envOpen(d: EnvironmentDiff, continued: string): string {
  return `<details><summary><b>${escapeMd(d.env)}</b>${continued}: ${countsText(d)}</summary>\n\n`;
}
const ENV_CLOSE = '\n</details>\n';

/** A resource whose diff alone exceeds `budget` is cut at line boundaries into several blocks. */
function resourcePieces(c: ResourceChange, budget: number): string[] {
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

export function formatMarkdown(report: DiffReport, limit: number = GITHUB_COMMENT_LIMIT): string[] {
  const headerRoom = 200; // the per-comment marker and "part i of n" line
  const budget = limit - headerRoom;
  const blocks: string[] = [`${summary(report)}\n`];
  for (const d of report.envs) {
    const whole = envOpen(d, '') + d.changes.map((c) => resourceBlock(c)).join('\n') + ENV_CLOSE;
    if (whole.length <= budget) {
      blocks.push(whole);
      continue;
    }
    // Too large for one comment: one section per group of resources that fits.
    const room = budget - envOpen(d, ' (part 999 of 999)').length - ENV_CLOSE.length - 200;
    const pieces = d.changes.flatMap((c) => resourcePieces(c, room));
    const groups = packInOrder(pieces, room);
    groups.forEach((g, i) => {
      const label = ` (part ${i + 1} of ${groups.length})`;
      const note = `_${escapeMd(d.env)} is too large for one comment: it is split by resource into ${groups.length} parts._\n\n`;
      blocks.push(envOpen(d, label) + note + g.join('\n') + ENV_CLOSE);
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

export function formatReport(report: DiffReport, format: DiffFormat, limit?: number): string {
  if (format === 'json') return formatJson(report);
  if (format === 'markdown') return `${formatMarkdown(report, limit).join(COMMENT_SEPARATOR)}\n`;
  return formatText(report);
}
