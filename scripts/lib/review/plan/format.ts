// The sync plan as text (terminal), Markdown (a collapsed <details> section of the PR comment), an HTML fragment
// (the review page) and JSON. Pure functions of a SyncPlan.
import type { AppPlan, PlanObject, PlanStep, Stall, SyncPlan } from './plan.ts';

export type PlanFormat = 'text' | 'markdown' | 'html' | 'json';
export const PLAN_FORMATS: readonly PlanFormat[] = ['text', 'markdown', 'html', 'json'];

const label = (o: PlanObject): string => `${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}${o.implicit ? ' (CreateNamespace=true)' : ''}${o.hook ? ` [${o.hook} hook, deleted: ${(o.deletePolicies ?? []).join(', ')}]` : ''}`;

/** Objects of a step, runs of one kind folded ("CustomResourceDefinition ×8: a, b, …"). */
function objectsLine(objects: readonly PlanObject[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < objects.length;) {
    let j = i;
    while (j < objects.length && objects[j]!.kind === objects[i]!.kind && !objects[j]!.hook && !objects[i]!.hook && !objects[j]!.implicit) j++;
    if (j - i > 3) {
      out.push(`${objects[i]!.kind} ×${j - i}: ${objects.slice(i, j).map((o) => `${o.namespace ? `${o.namespace}/` : ''}${o.name}`).join(', ')}`);
      i = j;
    } else {
      out.push(label(objects[i]!));
      i++;
    }
  }
  return out;
}

const stepTitle = (s: PlanStep): string => `${s.phase} wave ${s.wave}`;

function countApps(a: AppPlan): number {
  return 1 + a.steps.reduce((n, s) => n + s.children.reduce((m, c) => m + countApps(c), 0), 0);
}

export function planSummary(plan: SyncPlan): string {
  const apps = countApps(plan.root);
  return plan.finishes
    ? `finishes: ${apps} Application${apps === 1 ? '' : 's'}, ${plan.warnings.length} warning${plan.warnings.length === 1 ? '' : 's'}`
    : `cannot finish: ${plan.stalls.length} stall${plan.stalls.length === 1 ? '' : 's'} (${apps} Applications)`;
}

const stallLine = (s: Stall): string => `${s.object ? `${s.object} (Application ${s.app})` : `Application ${s.app}`}: ${s.message}`;

// ---- text --------------------------------------------------------------------------------------------------

function appText(a: AppPlan, indent: string, out: string[]): void {
  out.push(`${indent}Application ${a.app} (project ${a.project}, ${a.source})${a.note ? ` — ${a.note}` : ''}`);
  a.steps.forEach((s, i) => {
    out.push(`${indent}  ${i + 1}. ${stepTitle(s)}`);
    for (const l of objectsLine(s.objects)) out.push(`${indent}       ${l}`);
    for (const c of s.children) appText(c, `${indent}       `, out);
    out.push(`${indent}     waits for: ${s.waitsFor.length > 0 ? s.waitsFor.join('; ') : 'nothing (applied objects only)'}`);
  });
}

export function planText(plan: SyncPlan): string {
  const out = [`Sync plan (first sync from an empty cluster): ${planSummary(plan)}`];
  appText(plan.root, '', out);
  if (plan.stalls.length > 0) {
    out.push('', 'Stalls (the sync cannot finish):');
    for (const s of plan.stalls) out.push(`  ✗ ${stallLine(s)}`, `      fix: ${s.fix}`);
  }
  if (plan.warnings.length > 0) {
    out.push('', 'Warnings (finishes after retries):');
    for (const s of plan.warnings) out.push(`  ! ${stallLine(s)}`, `      fix: ${s.fix}`);
  }
  return `${out.join('\n')}\n`;
}

// ---- markdown ----------------------------------------------------------------------------------------------

const mdEscape = (s: string): string => s.replace(/[\\`*_{}[\]<>|]/g, (c) => `\\${c}`);

function appMarkdown(a: AppPlan, depth: number, out: string[]): void {
  const pad = '  '.repeat(depth);
  out.push(`${pad}- **${mdEscape(a.app)}** (project \`${a.project}\`, ${mdEscape(a.source)})${a.note ? ` — ${mdEscape(a.note)}` : ''}`);
  a.steps.forEach((s) => {
    out.push(`${pad}  - ${stepTitle(s)}: ${objectsLine(s.objects).map(mdEscape).join('; ')}`);
    for (const c of s.children) appMarkdown(c, depth + 2, out);
    out.push(`${pad}    - waits for: ${s.waitsFor.length > 0 ? s.waitsFor.map(mdEscape).join('; ') : 'nothing'}`);
  });
}

/** A collapsed section for the pull-request comment. */
export function planMarkdown(plan: SyncPlan): string {
  const out = ['<details>', `<summary>Sync plan: ${plan.finishes ? '✅' : '❌'} ${planSummary(plan)}</summary>`, ''];
  if (plan.stalls.length > 0) {
    out.push('**Stalls** (the sync cannot finish):', '');
    for (const s of plan.stalls) out.push(`- ❌ ${mdEscape(stallLine(s))} — fix: ${mdEscape(s.fix)}`);
    out.push('');
  }
  if (plan.warnings.length > 0) {
    out.push('**Warnings** (finishes after retries):', '');
    for (const s of plan.warnings) out.push(`- ⚠️ ${mdEscape(stallLine(s))} — fix: ${mdEscape(s.fix)}`);
    out.push('');
  }
  appMarkdown(plan.root, 0, out);
  out.push('', '</details>', '');
  return out.join('\n');
}

// ---- html --------------------------------------------------------------------------------------------------

const h = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function appHtml(a: AppPlan): string {
  const steps = a.steps.map((s) => `<li><b>${h(stepTitle(s))}</b>: ${objectsLine(s.objects).map(h).join('; ')}${s.children.map((c) => `<ul class="plan-app">${appHtml(c)}</ul>`).join('')}<br><small>waits for: ${s.waitsFor.length > 0 ? s.waitsFor.map(h).join('; ') : 'nothing'}</small></li>`).join('');
  return `<li><b>${h(a.app)}</b> (project <code>${h(a.project)}</code>, ${h(a.source)})${a.note ? ` — ${h(a.note)}` : ''}<ol>${steps}</ol></li>`;
}

/** A collapsed section for the review page (no script, no style of its own). */
export function planHtml(plan: SyncPlan): string {
  const stalls = plan.stalls.map((s) => `<li class="stall">✗ ${h(stallLine(s))}<br><small>fix: ${h(s.fix)}</small></li>`).join('');
  const warnings = plan.warnings.map((s) => `<li class="warning">! ${h(stallLine(s))}<br><small>fix: ${h(s.fix)}</small></li>`).join('');
  return `<details class="sync-plan"${plan.finishes ? '' : ' open'}><summary>Sync plan: ${h(planSummary(plan))}</summary>${stalls ? `<p><b>Stalls</b> (the sync cannot finish)</p><ul>${stalls}</ul>` : ''}${warnings ? `<p><b>Warnings</b> (finishes after retries)</p><ul>${warnings}</ul>` : ''}<ul class="plan-app">${appHtml(plan.root)}</ul></details>\n`;
}

export function planJson(plan: SyncPlan): string {
  return `${JSON.stringify(plan, null, 2)}\n`;
}

export function formatPlan(plan: SyncPlan, format: PlanFormat): string {
  return format === 'markdown' ? planMarkdown(plan) : format === 'html' ? planHtml(plan) : format === 'json' ? planJson(plan) : planText(plan);
}
