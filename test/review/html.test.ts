// The review page as a reviewer sees it: `diff --format html` on a copy of this repository, opened in
// headless Chromium (Debian's /usr/bin/chromium through playwright-core). One screenshot per run goes to
// .cache/review-page.png (a CI artifact); REVIEW_SCREENSHOT=update also refreshes the committed
// docs/images/review-page.png that the README shows (never during normal runs: tests do not dirty the tree).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { diffEnvironment } from '../../scripts/lib/review/diff/diffRenders.ts';
import type { DiffReport } from '../../scripts/lib/review/diff/format.ts';
import { escapeHtml, formatHtml, highlightYamlLine, resourceAnchor } from '../../scripts/lib/review/diff/html.ts';
import { formatReport } from '../../scripts/lib/review/diff/format.ts';
import { httpUrl } from '../../scripts/lib/review/diff/links.ts';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { summarizeEnvironment } from '../../scripts/lib/review/diff/summary.ts';
import { normalizeRender } from '../../scripts/lib/render/normalize.ts';
import { toYamlStream } from '../../scripts/lib/core/yaml.ts';
import { runScript } from './cli.ts';
import { DUMMY_SECRET_VALUE } from './fixture.ts';
import { createRepoCopy } from './repo-copy.ts';
import type { RepoCopy } from './repo-copy.ts';

// Functions given to page.evaluate run in the browser; the project compiles without the DOM library.
declare const window: { innerHeight: number; getComputedStyle(e: unknown): { backgroundColor: string }; requestAnimationFrame(cb: () => void): void };

// CHROMIUM_PATH, else Debian's chromium, else what a GitHub ubuntu runner has (Chrome; the Chromium snap shim).
const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/google-chrome', '/usr/bin/chromium-browser'];
const CHROMIUM = process.env.CHROMIUM_PATH ?? CANDIDATES.find((p) => existsSync(p)) ?? CANDIDATES[0]!;
const REPO = resolve(import.meta.dirname, '../..');
const SCREENSHOT_RUN = join(REPO, '.cache/review-page.png');
const SCREENSHOT_DOCS = join(REPO, 'docs/images/review-page.png');
const haveChromium = existsSync(CHROMIUM);
// Locally a missing browser skips with the reason; under CI=true the test runs and fails without one.
const runPage = haveChromium || process.env.CI === 'true';
if (!runPage) console.warn(`review page test skipped: no Chromium at ${process.env.CHROMIUM_PATH ?? CANDIDATES.join(', ')} (apt-get install chromium, or set CHROMIUM_PATH)`);

describe('the page highlighter', () => {
  it('only wraps already-escaped text: nothing is ever un-escaped', () => {
    const line = escapeHtml('  key: <script>alert("x")</script>');
    const out = highlightYamlLine(line);
    expect(out).toBe('  <span class="y-key">key</span>: <span class="y-val">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</span>');
    expect(out.replace(/<\/?span[^>]*>/g, '')).toBe(line);
  });

  it('keys, literals, strings, comments, list items and masked values', () => {
    expect(highlightYamlLine('    - name: api')).toBe('    - <span class="y-key">name</span>: <span class="y-val">api</span>');
    expect(highlightYamlLine('  replicas: 3')).toBe('  <span class="y-key">replicas</span>: <span class="y-lit">3</span>');
    expect(highlightYamlLine('  a: &quot;0&quot;')).toBe('  <span class="y-key">a</span>: <span class="y-str">&quot;0&quot;</span>');
    expect(highlightYamlLine('# generated')).toBe('<span class="y-com"># generated</span>');
    expect(highlightYamlLine('  - PruneLast=true')).toBe('  - <span class="y-val">PruneLast=true</span>');
    expect(highlightYamlLine('  password: &lt;masked, changed&gt;')).toBe('  <span class="y-key">password</span>: <span class="y-mask">&lt;masked, changed&gt;</span>');
    // diff2html's word markers inside a value: only the key is wrapped.
    expect(highlightYamlLine('  image: a:<del>1</del>')).toBe('  <span class="y-key">image</span>: a:<del>1</del>');
  });
});

describe('the page without a browser', () => {
  const secret = (v: string) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'qa' }, data: { password: Buffer.from(v).toString('base64') } });
  const deployment = (tag: string) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'api', namespace: 'qa' }, spec: { template: { spec: { containers: [{ name: 'api', image: `r/api:${tag}` }] } } } });
  const report = (): DiffReport => {
    const base = normalizeRender(toYamlStream([secret('old-value-1234'), deployment('1.0.0')]));
    const head = normalizeRender(toYamlStream([secret('new-value-5678'), deployment('<script>2')]));
    const d = diffEnvironment('qa', base, head)!;
    return { base: 'main', head: 'HEAD', reached: ['dev', 'qa'], envs: [{ ...d, summary: summarizeEnvironment('qa', base, head) }] };
  };

  it('is deterministic, self-contained, escaped and masked', () => {
    const page = formatHtml(report());
    expect(formatHtml(report())).toBe(page);
    expect(page).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none';`);
    expect(page).not.toMatch(/<link\b|<script\s+src|@import|url\(\s*['"]?https?:/i);
    expect(page).toContain('.d2h-wrapper'); // diff2html's stylesheet, inlined
    expect(page).not.toContain('<script>2');
    expect(page).toContain('&lt;script&gt;2');
    for (const v of ['old-value-1234', 'new-value-5678']) {
      expect(page).not.toContain(v);
      expect(page).not.toContain(Buffer.from(v).toString('base64'));
    }
    expect(page).toContain('id="r-qa--deployment-apps--qa--api"');
    expect(page).toContain('id="env-dev"'); // reached, identical: a collapsed section of its own
    expect(page).toMatch(/<details class="env unchanged" id="env-dev">/);
  });

  // Issue 30: the page's CSP allowed any inline script; now only the page's own <style> and <script>, by hash.
  it("has a CSP without 'unsafe-inline': the page's one style and one script allowed by their SHA-256", () => {
    const page = formatHtml(report());
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(page)![1]!;
    expect(csp).not.toContain('unsafe');
    const hash = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
    const styles = [...page.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1]!);
    const scripts = [...page.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]!);
    expect([styles.length, scripts.length]).toEqual([1, 1]);
    expect(csp).toContain(`style-src ${hash(styles[0]!)};`);
    expect(csp).toContain(`script-src ${hash(scripts[0]!)};`);
    expect(page).not.toMatch(/\sstyle="/); // a style attribute would need 'unsafe-inline'
    expect(page).not.toMatch(/\son[a-z]+=/i);
  });

  // Issue 30: `--source-url 'javascript:…'` became an href.
  it('links only http(s) URLs: any other scheme is shown as text, in the page and in markdown', () => {
    const withSource = (): DiffReport => {
      const r = report();
      const item = r.envs[0]!.summary!.items[0]!;
      item.source = { file: 'overlays/qa/env.yaml', line: 3, field: 'tag' };
      return r;
    };
    for (const bad of ['javascript:alert(document.domain)', 'JaVaScRiPt:alert(1)', ' javascript:alert(1)', 'java\tscript:alert(1)', 'data:text/html,<script>alert(1)</script>', 'vbscript:x', 'file:///etc/passwd', 'https://user:pw@example.com/x', '//example.com/x', 'https:', 'relative/path']) {
      expect(httpUrl(bad), bad).toBeUndefined();
      const page = formatHtml(withSource(), { sourceUrl: bad });
      expect(page, bad).not.toMatch(/href="(?!#)/);
      expect(page, bad).toContain('<span class="src">overlays/qa/env.yaml:3');
      const md = formatReport(withSource(), 'markdown', undefined, { sourceUrl: bad, pageUrl: bad });
      expect(md, bad).not.toMatch(/\]\((?!#)/);
    }
    const good = 'https://github.com/o/r/blob/0123abc';
    expect(formatHtml(withSource(), { sourceUrl: good })).toContain(`<a class="src" href="${good}/overlays/qa/env.yaml#L3">`);
    expect(formatReport(withSource(), 'markdown', undefined, { sourceUrl: good })).toContain(`](${good}/overlays/qa/env.yaml#L3)`);
  });

  it('diff refuses a --source-url or --page-url that is not http(s), exit 2 naming the option', async () => {
    // Inside a repository (its settings file, as committed), so the refusal is the URL's, not the missing root's.
    const dir = mkdtempSync(join(tmpdir(), 'html-urls-'));
    try {
      writeFileSync(join(dir, 'gitops.yaml'), execFileSync('git', ['show', 'HEAD:gitops.yaml'], { cwd: REPO, encoding: 'utf8' }));
      for (const [option, value] of [['--source-url', 'javascript:alert(1)'], ['--page-url', 'javascript:alert(1)'], ['--source-url', 'data:text/html,x']] as const) {
        const r = await runScript('diff', ['--format', 'html', option, value], dir);
        expect(r.code, `${option} ${value}`).toBe(2);
        expect(r.stderr).toContain(option);
        expect(r.stderr).toContain('http');
        expect(r.stderr).not.toContain('run inside the repository');
        expect(r.stdout).toBe('');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});

describe.skipIf(!runPage)('review page in headless Chromium', () => {
  let repo: RepoCopy;
  let page: Page;
  let browser: Browser;
  let html: string;
  let file: string;
  const secretB64 = Buffer.from(DUMMY_SECRET_VALUE).toString('base64');

  beforeAll(async () => {
    repo = createRepoCopy();
    // prod: an image bump (env.yaml, generated) and a Secret rendered from git (a policy finding, on purpose);
    // dev: a comment in env.yaml: reached, rendered, and identical.
    repo.edit('overlays/prod/env.yaml', /^tag: .*$/m, 'tag: 0.9.0');
    // prod pins its image by digest (docs/release.md, "Digests"): a new build comes with its own.
    repo.edit('overlays/prod/env.yaml', /^digest: .*$/m, `digest: sha256:${'9'.repeat(64)}`);
    repo.edit('overlays/dev/env.yaml', /^tag:/m, '# reviewed\ntag:');
    repo.generate();
    repo.write('overlays/prod/extra-secret.yaml', `apiVersion: v1\nkind: Secret\nmetadata:\n  name: extra\nstringData:\n  password: ${DUMMY_SECRET_VALUE}\ndata:\n  token: ${secretB64}\n`);
    repo.edit('overlays/prod/kustomization.yaml', /^resources:\n/m, 'resources:\n  - extra-secret.yaml\n');
    repo.commit('prod 0.9.0 and an extra Secret; dev: a comment');
    file = join(repo.root, 'review.html');
    const r = await runScript('diff', ['--base', 'HEAD~1', '--head', 'HEAD', '--format', 'html', '--out', file, '--source-url', 'https://github.com/example-org/gitops-users/blob/0123abc'], repo.root);
    expect(r.stderr).toContain('diff: wrote');
    expect(r.code).toBe(0);
    html = readFileSync(file, 'utf8');
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    repo?.cleanup();
  });

  it('is one self-contained file: byte-identical on a second run, and the browser fetches nothing', async () => {
    const again = join(repo.root, 'again.html');
    await runScript('diff', ['--base', 'HEAD~1', '--head', 'HEAD', '--format', 'html', '--out', again, '--source-url', 'https://github.com/example-org/gitops-users/blob/0123abc'], repo.root);
    expect(readFileSync(again, 'utf8')).toBe(html);
    expect(html).not.toMatch(/<link\b|<script\s+src|@import|url\(\s*['"]?https?:/i);
    const requests: string[] = [];
    const refused: string[] = [];
    page.on('request', (req) => requests.push(req.url()));
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) refused.push(m.text());
    });
    await page.goto(pathToFileURL(file).href);
    expect(requests).toEqual([pathToFileURL(file).href]);
    // The CSP allows the page's own style and script by hash (no 'unsafe-inline'): nothing was refused.
    expect(refused).toEqual([]);
    expect(html).not.toContain('unsafe-inline');
    // diff2html's stylesheet is inlined: its classes are styled.
    expect(await page.locator('.d2h-ins').first().evaluate((e) => window.getComputedStyle(e).backgroundColor)).not.toBe('rgba(0, 0, 0, 0)');
  });

  it('summary row for the changed environment, and the unchanged one collapsed', async () => {
    await page.goto(pathToFileURL(file).href);
    const prod = page.locator('table.summary tr[data-env="prod"]');
    await expect.poll(() => prod.innerText()).toMatch(/^prod\s+1\s+\d+\s+0\s+\d+\s+image 0\.1\.0@sha256:[0-9a-f]{12}… → 0\.9\.0@sha256:9{12}…; \+1 object; rolls users-api$/);
    expect(Number((await prod.locator('td').nth(4).innerText()).trim())).toBeGreaterThan(0); // findings
    expect(await page.locator('table.summary tr[data-env="dev"]').innerText()).toMatch(/^dev\s+0\s+0\s+0\s+no difference$/);
    expect(await page.locator('details#env-dev').evaluate((d) => (d as unknown as { open: boolean }).open)).toBe(false);
    expect(await page.getByText('Rendered at both commits: identical.').isVisible()).toBe(false);
    expect(await page.locator('details#env-prod').evaluate((d) => (d as unknown as { open: boolean }).open)).toBe(true);
    mkdirSync(join(REPO, '.cache'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT_RUN, fullPage: false });
    if (process.env.REVIEW_SCREENSHOT === 'update') {
      mkdirSync(join(REPO, 'docs/images'), { recursive: true });
      await page.screenshot({ path: SCREENSHOT_DOCS, fullPage: false });
    }
  });

  it('masks Secret values and shows the validate finding beside the Secret', async () => {
    await page.goto(pathToFileURL(file).href);
    const secret = page.locator(`#${resourceAnchor('prod', { group: '', kind: 'Secret', namespace: 'prod', name: 'extra' })}`);
    const shown = await secret.locator('.view-side').innerText();
    expect(shown).toContain('password: <masked>');
    expect(shown).toContain('token: <masked>');
    expect(await secret.locator('ul.findings').innerText()).toContain('no-secrets-in-git');
    const everything = await page.content();
    expect(everything).not.toContain(DUMMY_SECRET_VALUE);
    expect(everything).not.toContain(secretB64.slice(0, 16));
  });

  it('anchors: a summary link scrolls to its resource; a link into a collapsed section opens it', async () => {
    const anchor = resourceAnchor('prod', { group: 'apps', kind: 'Deployment', namespace: 'prod', name: 'users-api' });
    await page.goto(pathToFileURL(file).href);
    await page.locator('ul.items a[href="#' + anchor + '"]').first().click();
    expect(new URL(page.url()).hash).toBe(`#${anchor}`);
    const inView = () => page.locator(`#${anchor}`).evaluate((e) => { const r = e.getBoundingClientRect(); return r.top >= 0 && r.top < window.innerHeight; });
    expect(await inView()).toBe(true);
    // Collapse prod, then open the page at the resource's address: the section opens and scrolls there.
    await page.goto(pathToFileURL(file).href);
    await page.locator('details#env-prod > summary').click();
    expect(await page.locator('details#env-prod').evaluate((d) => (d as unknown as { open: boolean }).open)).toBe(false);
    await page.goto(`${pathToFileURL(file).href}#${anchor}`);
    await page.evaluate(() => new Promise<void>((r) => window.requestAnimationFrame(() => r())));
    expect(await page.locator('details#env-prod').evaluate((d) => (d as unknown as { open: boolean }).open)).toBe(true);
    expect(await inView()).toBe(true);
  });

  it('side-by-side by default, unified on request; YAML highlighted', async () => {
    await page.goto(pathToFileURL(file).href);
    const anchor = resourceAnchor('prod', { group: 'apps', kind: 'Deployment', namespace: 'prod', name: 'users-api' });
    const side = page.locator(`#${anchor} .view-side`);
    const unified = page.locator(`#${anchor} .view-unified`);
    expect(await page.locator(`#${anchor} p.from a`).first().getAttribute('href')).toMatch(/^https:\/\/github\.com\/example-org\/gitops-users\/blob\/0123abc\/overlays\/prod\/env\.yaml#L\d+$/);
    expect([await side.isVisible(), await unified.isVisible()]).toEqual([true, false]);
    await page.getByLabel('Unified').check();
    expect([await side.isVisible(), await unified.isVisible()]).toEqual([false, true]);
    expect(await unified.locator('.d2h-ins .y-key', { hasText: 'image' }).count()).toBe(1);
    expect(await unified.locator('.d2h-ins .d2h-code-line-ctn').first().innerText()).toContain('0.9.0');
  });
});
