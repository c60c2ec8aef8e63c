// The end-to-end run as a list of timed steps: what each proves, how long it took, what it saw, and on
// failure what Argo CD and the pods said. Pure: the runner feeds it results, the CLI prints them.

export interface StepResult {
  name: string;
  /** One sentence: what a pass of this step proves. */
  proves: string;
  status: 'passed' | 'failed' | 'not run';
  ms: number;
  /** What the step saw: one line each (an Application settled at 41 s, a request answered 201…). */
  details: string[];
  /** The error of a failed step. */
  error?: string;
  /** Argo CD conditions, pod states and events collected when the step failed. */
  diagnostics?: string;
}

export interface E2eReport {
  /** What was tested: the commit, the cluster context. */
  subject: { commit: string; context: string };
  steps: StepResult[];
  ok: boolean;
  totalMs: number;
}

export const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

const MARK: Record<StepResult['status'], string> = { passed: 'ok', failed: 'FAILED', 'not run': '-' };

export function formatReportText(r: E2eReport): string {
  const width = Math.max(...r.steps.map((s) => s.name.length), 4);
  const lines = [`e2e of ${r.subject.commit} on ${r.subject.context}: ${r.ok ? 'passed' : 'FAILED'} in ${seconds(r.totalMs)}`, ''];
  for (const s of r.steps) {
    lines.push(`${MARK[s.status].padEnd(6)} ${s.name.padEnd(width)}  ${s.status === 'not run' ? '' : seconds(s.ms).padStart(8)}`.trimEnd());
    for (const d of s.details) lines.push(`         ${d}`);
    if (s.error) lines.push(`         error: ${s.error}`);
    if (s.diagnostics) lines.push(...s.diagnostics.split('\n').map((l) => `         | ${l}`));
  }
  const failed = r.steps.find((s) => s.status === 'failed');
  if (failed) lines.push('', `first failing step: ${failed.name} (it proves: ${failed.proves})`);
  return `${lines.join('\n')}\n`;
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** For the workflow's job summary and the uploaded report: a table, then the failure's diagnostics. */
export function formatReportMarkdown(r: E2eReport): string {
  const lines = [
    `## End to end: ${r.ok ? 'passed' : 'failed'} (${seconds(r.totalMs)})`,
    '',
    `Commit \`${r.subject.commit}\` on \`${r.subject.context}\`.`,
    '',
    '| step | result | time | what it proves |',
    '|---|---|---:|---|',
    ...r.steps.map((s) => `| ${cell(s.name)} | ${MARK[s.status]} | ${s.status === 'not run' ? '' : seconds(s.ms)} | ${cell(s.proves)} |`),
  ];
  for (const s of r.steps.filter((x) => x.details.length > 0 || x.error)) {
    lines.push('', `### ${s.name}`, '', ...s.details.map((d) => `- ${d}`));
    if (s.error) lines.push('', `**error:** ${s.error}`);
    if (s.diagnostics) lines.push('', '<details><summary>Argo CD and pod diagnostics</summary>', '', '```', s.diagnostics, '```', '', '</details>');
  }
  return `${lines.join('\n')}\n`;
}

export function formatReportJson(r: E2eReport): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}
