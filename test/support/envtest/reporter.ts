// The run's closing line about the real API server tier: how many tests ran against it and where its
// binaries came from, or how many were skipped and the one command that enables them. Printed after
// vitest's own summary (listed after 'default' in vitest.config.ts), so a user cannot miss it.
import type { Reporter, TestModule } from 'vitest/node';
import { ENVTEST_HOWTO } from './assets.ts';

const LABEL = '(kube-apiserver v1.28)';

export function envtestSummary(counts: { ran: number; skipped: number }, assets: { dir?: string; source?: string; why?: string }): string | undefined {
  const { ran, skipped } = counts;
  if (ran === 0 && skipped === 0) return undefined;
  if (skipped > 0) return `${skipped} tests against a real kube-apiserver skipped: ${assets.why ? `${assets.why}; ` : ''}run ${ENVTEST_HOWTO} to enable them`;
  return `${ran} tests ran against a real kube-apiserver v1.28 (${assets.dir ?? 'KUBEBUILDER_ASSETS'}${assets.source ? `, found by ${assets.source}` : ''})`;
}

export default class EnvtestSummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let ran = 0;
    let skipped = 0;
    for (const m of testModules) {
      for (const t of m.children.allTests()) {
        if (!t.fullName.includes(LABEL)) continue;
        const state = t.result().state;
        if (state === 'passed' || state === 'failed') ran++;
        else if (state === 'skipped') skipped++;
      }
    }
    const line = envtestSummary({ ran, skipped }, { dir: process.env.KUBEBUILDER_ASSETS, source: process.env.ENVTEST_ASSETS_FOUND_BY, why: process.env.ENVTEST_NOT_USED_BECAUSE });
    // On exit, so it is the run's very last line (after the JSON reporter's note); stdout writes are synchronous then.
    if (line) process.once('exit', () => process.stdout.write(`${line}\n`));
  }
}
