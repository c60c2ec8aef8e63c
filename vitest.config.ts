import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    // One real kube-apiserver per run when KUBEBUILDER_ASSETS is set (test/support/envtest).
    globalSetup: ['test/support/envtest/global-setup.ts'],
    // The JSON report gives .ci/run the pass/fail counts of the exact `npm test` run the README documents.
    reporters: ['default', ['json', { outputFile: '.cache/vitest-report.json' }]],
  },
});
