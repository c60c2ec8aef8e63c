import { defineConfig } from 'vitest/config';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { findEnvtestAssets } from './test/support/envtest/assets.ts';
import { upstreamDir, UPSTREAM_FILES } from './test/support/envtest/upstream.ts';

// The real API server's binaries: KUBEBUILDER_ASSETS, else found where setup-envtest or the project's
// setup put them (test/support/envtest/assets.ts). Set here, before globalSetup and the workers start,
// so every process of the run agrees on whether the kube-apiserver tests run.
const assets = findEnvtestAssets();
if (assets && !process.env.KUBEBUILDER_ASSETS) {
  // Found, not asked for: used only with the upstream CRD files the server is given (else skipped, and said so).
  const missing = Object.values(UPSTREAM_FILES).filter((f) => !existsSync(join(upstreamDir(), f)));
  if (missing.length === 0) {
    process.env.KUBEBUILDER_ASSETS = assets.dir;
    process.env.ENVTEST_ASSETS_FOUND_BY = assets.source;
  } else {
    process.env.ENVTEST_NOT_USED_BECAUSE = `${assets.dir} found, but not ${missing.join(', ')} in ${upstreamDir()} (set ENVTEST_UPSTREAM_DIR)`;
  }
}

// The suite starts the toolkit's scripts as a user does (`node scripts/x.ts`) several hundred times.
// Node's module compile cache (nodejs/node@v24.x:doc/api/module.md "Module compile cache": CommonJS,
// ES and TypeScript modules, keyed by each file's content, so an edited file is compiled again) keeps
// the V8 code of every module those processes load, and of the TypeScript stripped from our own files:
// each start-up compiles nothing it compiled before in this checkout. Set here so the workers and
// every process they start inherit it. NODE_DISABLE_COMPILE_CACHE=1 turns it off.
if (!process.env.NODE_COMPILE_CACHE) process.env.NODE_COMPILE_CACHE = join(import.meta.dirname, '.cache/node-compile-cache');

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    // Each worker runs file after file in one process instead of a fresh process per file: the 111 files
    // then pay one start-up and one load of the shared modules per worker, not per file. The tests keep no
    // state across files (no process.env, cwd or global changes; fake timers restored; unique temp dirs).
    // Measured on a clean clone, quiet 2 cores, same caches: 256.6 s wall isolated, 229.2 s shared, all
    // 1483 passing in both (bench/README.md, "Fourth round").
    isolate: false,
    // One real kube-apiserver per run when KUBEBUILDER_ASSETS is set (test/support/envtest).
    globalSetup: ['test/support/scratch-setup.ts', 'test/support/envtest/global-setup.ts'],
    // The JSON report gives .ci/run the pass/fail counts of the exact `npm test` run the README documents.
    // The last line of a run says how many tests ran against the real kube-apiserver, or how to enable them.
    reporters: ['default', ['json', { outputFile: '.cache/vitest-report.json' }], './test/support/envtest/reporter.ts'],
  },
});
