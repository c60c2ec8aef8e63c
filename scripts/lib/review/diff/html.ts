// The review as one self-contained HTML page: summary table, one collapsible section per environment,
// each changed resource rendered by diff2html (side-by-side and unified, switchable), YAML highlighted,
// policy findings beside the resource they concern, a stable anchor per resource. No network: the
// diff2html stylesheet is read from node_modules at run time and inlined, and the page's Content
// Security Policy forbids every external load. Pure apart from reading that stylesheet.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { html as diff2html } from 'diff2html';
import { idKey, idLabel } from '../../render/normalize.ts';
import type { ResourceId } from '../../render/normalize.ts';
import type { Finding } from '../validate/validate.ts';
import type { ResourceChange } from './diffRenders.ts';
import { commitText, itemText, shortValue, sourcesOfChange } from './format.ts';
import { httpUrl } from './links.ts';
import type { DiffReport, ReviewedEnvironment } from './format.ts';
import type { SourceRef, SummaryItem } from './summary.ts';

export interface HtmlOptions {
  /** URL that repository paths are appended to for source links (…/blob/<sha>). */
  sourceUrl?: string;
  /** The diff2html stylesheet; default: read from the installed diff2html package. */
  diff2htmlCss?: string;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** diff2html's own stylesheet (diff2html/bundles/css/diff2html.min.css), to inline. */
export function diff2htmlStylesheet(): string {
  return readFileSync(createRequire(import.meta.url).resolve('diff2html/bundles/css/diff2html.min.css'), 'utf8');
}

function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'x';
}

/** Stable, readable anchors: env-<env> and r-<env>--<kind>[-<group>]--<namespace>--<name>. */
export function envAnchor(env: string): string {
  return `env-${slug(env)}`;
}
export function resourceAnchor(env: string, id: ResourceId): string {
  return `r-${slug(env)}--${slug(id.kind)}${id.group ? `-${slug(id.group)}` : ''}--${slug(id.namespace || 'cluster')}--${slug(id.name)}`;
}

/**
 * A small highlighter for YAML lines as diff2html escapes them: it only wraps runs of already-escaped
 * text in spans (a key, a scalar, a comment), so it cannot un-escape anything; lines holding diff2html's
 * word-level <ins>/<del> markup get their key highlighted only.
 */
export function highlightYamlLine(escaped: string): string {
  const comment = /^(\s*)(#.*)$/.exec(escaped);
  if (comment && !comment[2]!.includes('<')) return `${comment[1]}<span class="y-com">${comment[2]}</span>`;
  const m = /^(\s*(?:-\s+)?)([A-Za-z0-9_./-]+|&quot;[^<]*?&quot;|&#39;[^<]*?&#39;)(:)(\s+|$)(.*)$/.exec(escaped);
  if (!m) {
    const item = /^(\s*-\s+)([^<]*)$/.exec(escaped);
    return item ? `${item[1]}${scalar(item[2]!)}` : escaped;
  }
  const [, lead, key, colon, space, rest] = m;
  const value = rest!.includes('<') ? rest : scalar(rest!);
  return `${lead}<span class="y-key">${key}</span>${colon}${space}${value}`;
}

function scalar(v: string): string {
  if (v === '') return v;
  if (/^(?:true|false|null|~|-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)$/.test(v)) return `<span class="y-lit">${v}</span>`;
  if (/^(?:&quot;|&#39;)/.test(v)) return `<span class="y-str">${v}</span>`;
  if (/^&lt;masked(?:, changed)?&gt;$/.test(v)) return `<span class="y-mask">${v}</span>`;
  if (/^[|>][-+]?$/.test(v)) return `<span class="y-lit">${v}</span>`;
  return `<span class="y-val">${v}</span>`;
}

function highlightDiffHtml(html: string): string {
  return html
    .replace(/(<span class="d2h-code-line-ctn">)([\s\S]*?)(<\/span>)/g, (_all, open: string, body: string, close: string) => `${open}${highlightYamlLine(body)}${close}`)
    // diff2html ids are a hash of the file name: the same in two environments and in both views.
    .replace(/ id="d2h-\d+"/g, '');
}

const STATUS_LABEL: Record<ResourceChange['status'], string> = { added: 'added', changed: 'changed', removed: 'removed' };

/** The unified-diff text diff2html parses: git headers named after the resource, then our hunks. */
function diffInput(c: ResourceChange): string {
  const name = idLabel(c.id).replace(/\s/g, ' ');
  const oldName = c.status === 'added' ? '/dev/null' : `a/${name}`;
  const newName = c.status === 'removed' ? '/dev/null' : `b/${name}`;
  const mode = c.status === 'added' ? 'new file mode 100644\n' : c.status === 'removed' ? 'deleted file mode 100644\n' : '';
  return `diff --git a/${name} b/${name}\n${mode}--- ${oldName}\n+++ ${newName}\n${c.patch}\n`;
}

function sourceHtml(s: SourceRef, sourceUrl: string | undefined): string {
  const text = `${escapeHtml(s.file)}${s.line ? `:${s.line}` : ''} <code>${escapeHtml(s.field)}</code>`;
  // Only http(s) is ever linked (links.ts): any other scheme is shown as text.
  if (!sourceUrl || httpUrl(sourceUrl) === undefined) return `<span class="src">${text}</span>`;
  const href = `${sourceUrl.replace(/\/$/, '')}/${s.file}${s.line ? `#L${s.line}` : ''}`;
  return `<a class="src" href="${escapeHtml(href)}">${text}</a>`;
}

function itemHtml(env: string, i: SummaryItem, sourceUrl: string | undefined, anchors: Map<string, string>): string {
  const target = anchors.get(`${env}\0${i.resource}`);
  const text = escapeHtml(itemText(i));
  const linked = target ? `<a href="#${target}">${text}</a>` : text;
  return `<li class="item item-${i.kind}">${linked}${i.source ? ` ← ${sourceHtml(i.source, sourceUrl)}` : ''}</li>`;
}

function findingHtml(f: Finding): string {
  return `<li class="finding"><b>${escapeHtml(f.policy)}</b> ${escapeHtml(f.message)} <span class="path">${escapeHtml(f.path)}</span> — fix in <code>${escapeHtml(f.file)}</code>: ${escapeHtml(f.fix)}</li>`;
}

function resourceHtml(env: string, c: ResourceChange, anchor: string, findings: readonly Finding[], from: readonly SourceRef[], sourceUrl: string | undefined): string {
  const notes: string[] = [];
  if (c.renamedFrom) notes.push(`generated name changed from ${c.renamedFrom} (content hash)`);
  if (c.rolls) notes.push(c.rolls.length > 0 ? `rolls: ${c.rolls.join(', ')}` : 'rolls: no workload references it');
  const input = diffInput(c);
  const common = { drawFileList: false, matching: 'lines', diffStyle: 'word', colorScheme: 'light' } as const;
  // diff2html types these settings as enums whose values are these strings.
  type Config = NonNullable<Parameters<typeof diff2html>[1]>;
  const side = highlightDiffHtml(diff2html(input, { ...common, outputFormat: 'side-by-side' } as unknown as Config));
  const unified = highlightDiffHtml(diff2html(input, { ...common, outputFormat: 'line-by-line' } as unknown as Config));
  return [
    `<article class="resource status-${c.status}" id="${anchor}" data-env="${escapeHtml(env)}">`,
    `<h3><a class="anchor" href="#${anchor}" title="link to this resource">#</a> <span class="badge ${c.status}">${STATUS_LABEL[c.status]}</span> ${escapeHtml(idLabel(c.id))}</h3>`,
    notes.length > 0 ? `<p class="notes">${notes.map(escapeHtml).join('<br>')}</p>` : '',
    from.length > 0 ? `<p class="from">from ${from.map((s) => sourceHtml(s, sourceUrl)).join(', ')}</p>` : '',
    findings.length > 0 ? `<ul class="findings" aria-label="validate findings">${findings.map(findingHtml).join('')}</ul>` : '',
    `<div class="view view-side">${side}</div>`,
    `<div class="view view-unified">${unified}</div>`,
    '</article>',
  ].join('\n');
}

function countsText(d: ReviewedEnvironment): string {
  return `${d.counts.added} added, ${d.counts.changed} changed, ${d.counts.removed} removed`;
}

const PAGE_CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1400px;padding:16px 24px;color:#1f2328}
h1{font-size:20px;margin:0 0 4px} h2{font-size:16px;margin:0}
.meta{color:#59636e;margin:0 0 12px} .meta code{background:#f0f2f4;padding:0 4px;border-radius:4px}
table.summary{border-collapse:collapse;margin:12px 0 16px;width:100%}
table.summary th,table.summary td{border:1px solid #d1d9e0;padding:4px 8px;text-align:left;vertical-align:top}
table.summary td.n{text-align:right;font-variant-numeric:tabular-nums}
tr.unchanged td{color:#59636e}
.controls{margin:8px 0 12px} .controls label{margin-right:12px}
details.env{border:1px solid #d1d9e0;border-radius:6px;margin:10px 0;padding:0 12px}
details.env>summary{cursor:pointer;padding:8px 0;font-weight:600}
details.env>summary .verdict{font-weight:400;color:#59636e}
ul.items{margin:4px 0 10px;padding-left:20px} .src{color:#0969da} .src code{font-size:12px}
article.resource{margin:14px 0 18px} article.resource h3{font-size:14px;margin:0 0 6px}
a.anchor{color:#afb8c1;text-decoration:none} a.anchor:hover{color:#0969da}
.badge{font-size:11px;border-radius:10px;padding:1px 7px;color:#fff;text-transform:uppercase}
.badge.added{background:#1a7f37}.badge.changed{background:#9a6700}.badge.removed{background:#cf222e}
.notes,.from{color:#59636e;margin:0 0 6px}
ul.findings{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;margin:0 0 8px;padding:6px 6px 6px 24px}
.finding .path{color:#59636e;font-family:ui-monospace,monospace;font-size:12px}
.y-key{color:#0550ae}.y-str{color:#0a3069}.y-lit{color:#8250df}.y-val{color:#116329}.y-com{color:#6e7781;font-style:italic}
.y-mask{color:#cf222e;font-style:italic}
body.unified .view-side{display:none} body:not(.unified) .view-unified{display:none}
.d2h-file-collapse,.d2h-file-header{display:none}
h2.inline{display:inline}
:target{scroll-margin-top:8px} article.resource:target h3{background:#ddf4ff}
`;

// Switches the view and opens the section holding an anchor (a link into a collapsed environment).
const PAGE_JS = `
(function(){
  var body=document.body;
  function setView(v){body.classList.toggle('unified',v==='unified');var r=document.querySelector('input[name=view][value='+v+']');if(r)r.checked=true;}
  document.querySelectorAll('input[name=view]').forEach(function(r){r.addEventListener('change',function(){setView(r.value);});});
  function reveal(){var id=decodeURIComponent(location.hash.slice(1));if(!id)return;var el=document.getElementById(id);if(!el)return;
    for(var p=el;p;p=p.parentElement){if(p.tagName==='DETAILS')p.open=true;}el.scrollIntoView();}
  window.addEventListener('hashchange',reveal);reveal();
})();
`;

/**
 * A CSP source for one inline element: 'sha256-<base64 of the digest of its exact text>' (CSP Level 2,
 * https://www.w3.org/TR/CSP3/#grammardef-hash-source): the page's own <style> and <script> run, nothing
 * else inline does (no 'unsafe-inline': an injected <script> or style attribute is refused).
 */
function cspHash(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/** The whole page. Deterministic: the same report gives the same bytes. */
export function formatHtml(report: DiffReport, options: HtmlOptions = {}): string {
  const css = options.diff2htmlCss ?? diff2htmlStylesheet();
  const sourceUrl = options.sourceUrl;
  const findings = report.findings ?? [];
  const used = new Set<string>();
  const anchorOf = (env: string, id: ResourceId): string => {
    let a = resourceAnchor(env, id);
    for (let n = 2; used.has(a); n++) a = `${resourceAnchor(env, id)}-${n}`;
    used.add(a);
    return a;
  };
  const anchors = new Map<string, string>(); // env \0 idLabel → anchor
  const envAnchors = new Map<string, string>();
  for (const d of report.envs) {
    envAnchors.set(d.env, envAnchor(d.env));
    for (const c of d.changes) anchors.set(`${d.env}\0${idLabel(c.id)}`, anchorOf(d.env, c.id));
  }
  const unchanged = report.reached.filter((e) => !report.envs.some((d) => d.env === e));

  const title = `Rendered manifests: ${report.base} → ${report.head}`;
  const meta = [
    ['base', commitText(report.baseCommit) ?? report.base],
    ['head', commitText(report.headCommit) ?? report.head],
    ...(report.kustomize ? [['kustomize', report.kustomize]] : []),
  ].map(([k, v]) => `${k}: <code>${escapeHtml(v!)}</code>`).join('<br>');

  const rows = [
    ...report.envs.map((d) => {
      const n = findings.filter((f) => f.env === d.env).length;
      return `<tr class="changed" data-env="${escapeHtml(d.env)}"><td><a href="#${envAnchors.get(d.env)}">${escapeHtml(d.env)}</a>${d.status === 'changed' ? '' : ` (${d.status})`}</td><td class="n">${d.counts.added}</td><td class="n">${d.counts.changed}</td><td class="n">${d.counts.removed}</td><td class="n">${n}</td><td class="verdict">${escapeHtml(d.summary?.verdict ?? countsText(d))}</td></tr>`;
    }),
    ...unchanged.map((e) => `<tr class="unchanged" data-env="${escapeHtml(e)}"><td><a href="#${envAnchor(e)}">${escapeHtml(e)}</a></td><td class="n">0</td><td class="n">0</td><td class="n">0</td><td class="n"></td><td class="verdict">no difference</td></tr>`),
  ];
  const summaryTable = report.reached.length === 0
    ? '<p class="empty">No environment is reached by the changed files.</p>'
    : `<table class="summary"><thead><tr><th>Environment</th><th>Added</th><th>Changed</th><th>Removed</th><th>Findings</th><th>What changed</th></tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table>`;

  const sections = report.envs.map((d) => {
    const envFindings = findings.filter((f) => f.env === d.env);
    const changedKeys = new Set(d.changes.map((c) => idKey(c.id)));
    const items = (d.summary?.items ?? []).filter((i) => i.kind !== 'added' && i.kind !== 'removed');
    const others = envFindings.filter((f) => !changedKeys.has(idKey(f.object)));
    return [
      `<details class="env changed" id="${envAnchors.get(d.env)}" open>`,
      `<summary><h2 class="inline">${escapeHtml(d.env)}${d.status === 'changed' ? '' : ` (environment ${d.status})`}</h2> — ${countsText(d)} <span class="verdict">${escapeHtml(d.summary?.verdict ?? '')}</span></summary>`,
      items.length > 0 ? `<ul class="items">${items.map((i) => itemHtml(d.env, i, sourceUrl, anchors)).join('')}</ul>` : '',
      ...d.changes.map((c) => resourceHtml(d.env, c, anchors.get(`${d.env}\0${idLabel(c.id)}`)!, envFindings.filter((f) => idKey(f.object) === idKey(c.id)), sourcesOfChange(d, c), sourceUrl)),
      others.length > 0 ? `<h3>Findings on resources this change does not touch</h3><ul class="findings">${others.map((f) => `<li class="finding">${escapeHtml(idLabel(f.object))}: <b>${escapeHtml(f.policy)}</b> ${escapeHtml(shortValue(f.message, 200))}</li>`).join('')}</ul>` : '',
      '</details>',
    ].join('\n');
  });
  const same = unchanged.map((e) => `<details class="env unchanged" id="${envAnchor(e)}"><summary><h2 class="inline">${escapeHtml(e)}</h2> — <span class="verdict">no difference</span></summary><p>Rendered at both commits: identical.</p></details>`);

  const style = `\n${css}\n${PAGE_CSS}\n`;
  const csp = `default-src 'none'; style-src ${cspHash(style)}; script-src ${cspHash(PAGE_JS)}; img-src data:; base-uri 'none'; form-action 'none'`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<title>${escapeHtml(title)}</title>
<style>${style}</style>
</head>
<body>
<header>
<h1>${escapeHtml(title)}</h1>
<p class="meta">${meta}</p>
</header>
${summaryTable}
${report.envs.length > 0 ? '<p class="controls" role="radiogroup" aria-label="diff view"><label><input type="radio" name="view" value="side" checked> Side by side</label><label><input type="radio" name="view" value="unified"> Unified</label></p>' : ''}
<main>
${[...sections, ...same].join('\n')}
</main>
<script>${PAGE_JS}</script>
</body>
</html>
`;
}
