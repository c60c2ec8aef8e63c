// How many cases a property test tries. The default suite runs a quarter of each property's full count
// (at least 1) with the fixed seed, so `npm test` stays within its budget; FUZZ_RUNS=full runs the full
// counts (bench-style, opt-in: `FUZZ_RUNS=full npx vitest run test/hardening`), and FUZZ_SEED picks
// another fixed seed. Same seed, same cases, on every machine.
import type fc from 'fast-check';

export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20_261_125);
export const FULL_RUNS = process.env.FUZZ_RUNS === 'full';

/** fast-check parameters for a property whose full run tries `full` cases. */
export function propertyRuns(full: number): fc.Parameters<unknown> {
  return { numRuns: FULL_RUNS ? full : Math.max(1, Math.ceil(full / 4)), seed: FUZZ_SEED, endOnFailure: true };
}
