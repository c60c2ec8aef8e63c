// The sync plan in the review outputs of `diff.ts`: a collapsed section after the pull-request comment's
// Markdown, and before the end of the review page's HTML: the platform and the environments the diff reaches. It plans the checked-out tree, so it is shown when
// the diff's head is the working tree, or a --head that is the checked-out commit of a clean tree (what the
// pull-request workflow runs: --head HEAD); for any other head a one-line note says why it is missing.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { KustomizeTool } from '../../render/kustomize.ts';
import { SETTINGS_FILE } from '../../core/layout.ts';
import { gitRaw } from '../../core/git.ts';
import { planHtml, planMarkdown } from './format.ts';
import { planRepository } from './index.ts';

async function isCheckedOut(root: string, head: string): Promise<boolean> {
  const [a, b, status] = await Promise.all([gitRaw(root, ['rev-parse', '--verify', `${head}^{commit}`]), gitRaw(root, ['rev-parse', '--verify', 'HEAD^{commit}']), gitRaw(root, ['status', '--porcelain', '--untracked-files=no'])]);
  return a.code === 0 && b.code === 0 && a.stdout.toString().trim() === b.stdout.toString().trim() && status.code === 0 && status.stdout.toString().trim() === '';
}

/** `reached`: the environments the diff reaches (planned with the platform; render's cache has them already). */
export async function withSyncPlan(text: string, format: 'markdown' | 'html', root: string, kustomize: KustomizeTool, head: string | undefined, reached: readonly string[]): Promise<string> {
  let section: string;
  // A plain Kustomize repository (no gitops.yaml: no Argo CD Applications generated here) has no sync plan.
  const note = !existsSync(join(root, SETTINGS_FILE))
    ? `Sync plan: not computed: ${SETTINGS_FILE} is missing, so this repository declares no Argo CD Applications`
    : head !== undefined && !(await isCheckedOut(root, head))
      ? `Sync plan: not computed for --head ${head}, which is not the checked-out tree (run zx scripts/plan.ts there)`
      : undefined;
  if (note !== undefined) {
    section = format === 'markdown' ? `<details>\n<summary>${note}</summary>\n</details>\n` : `<details class="sync-plan"><summary>${note.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)}</summary></details>\n`;
  } else {
    const plan = await planRepository(root, { kustomize, envs: reached });
    section = format === 'markdown' ? planMarkdown(plan) : planHtml(plan);
  }
  if (format === 'markdown') return `${text.trimEnd()}\n\n${section}`;
  const end = text.lastIndexOf('</body>');
  return end < 0 ? `${text}${section}` : `${text.slice(0, end)}${section}${text.slice(end)}`;
}
