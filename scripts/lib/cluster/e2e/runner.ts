// Runs the end-to-end steps in order, timing each; the first failure stops the run, collects what Argo
// CD and the pods say about it, and marks the rest "not run". A step's own timeouts live in the step
// (wait.ts); the runner only orders, times and reports.
import type { E2eReport, StepResult } from './report.ts';

export interface StepContext {
  /** Record one line of what the step saw. */
  note(line: string): void;
}

export interface Step {
  name: string;
  proves: string;
  run(ctx: StepContext): Promise<void>;
}

export interface RunnerDeps {
  now(): number;
  /** Called once, after the first failed step: Argo CD conditions, pod states, events. */
  diagnose(failed: Step, error: unknown): Promise<string>;
  /** Progress as it happens (the CLI prints it to stderr). */
  progress?(line: string): void;
}

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export async function runSteps(steps: readonly Step[], subject: E2eReport['subject'], deps: RunnerDeps): Promise<E2eReport> {
  const start = deps.now();
  const results: StepResult[] = [];
  let failed = false;
  for (const step of steps) {
    if (failed) {
      results.push({ name: step.name, proves: step.proves, status: 'not run', ms: 0, details: [] });
      continue;
    }
    const details: string[] = [];
    const t0 = deps.now();
    deps.progress?.(`e2e: ${step.name}…`);
    try {
      await step.run({ note: (line) => { details.push(line); deps.progress?.(`  ${line}`); } });
      results.push({ name: step.name, proves: step.proves, status: 'passed', ms: deps.now() - t0, details });
    } catch (error) {
      failed = true;
      const ms = deps.now() - t0;
      let diagnostics: string;
      try {
        diagnostics = await deps.diagnose(step, error);
      } catch (e) {
        diagnostics = `(collecting diagnostics failed too: ${messageOf(e)})`;
      }
      results.push({ name: step.name, proves: step.proves, status: 'failed', ms, details, error: messageOf(error), diagnostics });
    }
  }
  return { subject, steps: results, ok: !failed, totalMs: deps.now() - start };
}
