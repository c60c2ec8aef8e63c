// Kubernetes resource quantities ("100m", "1.5Gi", "2e3"), parsed exactly and compared exactly.
//
// The grammar is the one documented and scanned in kubernetes/apimachinery@v0.28.0
// pkg/api/resource/quantity.go (`<quantity> ::= <signedNumber><suffix>`, parseQuantityString) with the
// suffixes of pkg/api/resource/suffix.go (newSuffixer, suffixHandler.interpret):
//
//   <number>   ::= <digits> | <digits>.<digits> | <digits>. | .<digits>
//   <suffix>   ::= <binarySI> Ki|Mi|Gi|Ti|Pi|Ei  |  <decimalSI> n|u|m|""|k|M|G|T|P|E  |  e<int> | E<int>
//
// (The Go scanner also reads a missing number as zero: ".", "+" and "Gi" parse as 0. The grammar does
// not allow them, and neither do we.)
// A value is kept as an exact rational (bigint numerator / denominator): no floating point, so
// "99999999999999999999999Ti" and "0.1m" compare exactly. The limits that matter to the API server:
//   - ParseQuantity silently caps a binary-SI value at 2^63-1 (quantity.go, `maxAllowed`), so a bigger
//     memory or storage size would be stored as a different number than the one written;
//   - kubelet and scheduler work in milli-units (Quantity.MilliValue), which only fits int64 up to
//     MaxMilliValue = (2^63-1)/1000 units (pkg/api/resource/math.go), so a bigger CPU value overflows;
//   - a resource value (requests, limits, storage: a ResourceList) finer than 1m is rounded up to milli
//     units when the object is stored (kubernetes/kubernetes@v1.28.0 pkg/apis/core/v1/defaults.go
//     SetDefaults_ResourceList: "In the future, we should instead reject values that need rounding").
// `quantityRangeProblem` refuses all of these, so whatever passes is stored exactly as written.

export type QuantityFormat = 'BinarySI' | 'DecimalSI' | 'DecimalExponent';

export interface Quantity {
  /** The text as written. */
  text: string;
  /** Exact value = num / den (den > 0). */
  num: bigint;
  den: bigint;
  format: QuantityFormat;
}

const BINARY: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const NUMBER = /^([+-]?)(?:([0-9]+)(?:\.([0-9]*))?|\.([0-9]+))(.*)$/s;
const EXPONENT = /^[eE]([+-]?[0-9]+)$/;
/** Beyond this decimal exponent every non-zero value is out of range anyway; avoids 10^(2^31) bigints. */
const EXPONENT_BOUND = 64;

/** 2^63-1: the largest int64, the cap of ParseQuantity for binary-SI values. */
export const MAX_INT64 = (1n << 63n) - 1n;
/** MaxMilliValue of apimachinery: the largest value (in units) whose milli-value fits in an int64. */
export const MAX_MILLI_VALUE = MAX_INT64 / 1000n;

function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x === 0n ? 1n : x;
}

function reduce(num: bigint, den: bigint): { num: bigint; den: bigint } {
  const g = gcd(num, den);
  return { num: num / g, den: den / g };
}

/** Parses a quantity; returns an error message (the reason it is not a quantity) instead of throwing. */
export function parseQuantity(text: string): Quantity | { error: string } {
  if (typeof text !== 'string' || text === '') return { error: 'is empty; a quantity is a number with an optional suffix, e.g. 128Mi or 250m' };
  const m = NUMBER.exec(text);
  if (!m) return { error: `"${text}" is not a quantity: it must start with a number (digits, optionally a "." and more digits)` };
  const [, sign, whole = '', fraction = '', onlyFraction, rest = ''] = m;
  const digits = onlyFraction === undefined ? whole + fraction : onlyFraction;
  const decimals = onlyFraction === undefined ? fraction.length : onlyFraction.length;
  let num = BigInt(digits) * (sign === '-' ? -1n : 1n);
  let den = 10n ** BigInt(decimals);
  let format: QuantityFormat;
  if (rest in BINARY) {
    format = 'BinarySI';
    num *= 1n << BigInt(BINARY[rest]!);
  } else if (rest in DECIMAL) {
    format = 'DecimalSI';
    const e = DECIMAL[rest]!;
    if (e >= 0) num *= 10n ** BigInt(e);
    else den *= 10n ** BigInt(-e);
  } else {
    const x = EXPONENT.exec(rest);
    if (!x) {
      return { error: `"${text}" has an unknown suffix "${rest}": use Ki, Mi, Gi, Ti, Pi, Ei (powers of 1024), n, u, m, k, M, G, T, P, E (powers of 1000) or e<exponent>` };
    }
    format = 'DecimalExponent';
    const e = Number(x[1]);
    if (num === 0n) {
      // 0e999 is zero whatever the exponent.
    } else if (e > EXPONENT_BOUND) {
      num *= 10n ** BigInt(EXPONENT_BOUND + 1);
    } else if (e < -EXPONENT_BOUND) {
      den *= 10n ** BigInt(EXPONENT_BOUND + 1);
    } else if (e >= 0) {
      num *= 10n ** BigInt(e);
    } else {
      den *= 10n ** BigInt(-e);
    }
  }
  return { text, ...reduce(num, den), format };
}

export function isQuantity(q: Quantity | { error: string }): q is Quantity {
  return !('error' in q);
}

/** -1, 0 or 1 as a is less than, equal to or greater than b (exact). */
export function compareQuantities(a: Quantity, b: Quantity): -1 | 0 | 1 {
  const l = a.num * b.den;
  const r = b.num * a.den;
  return l < r ? -1 : l > r ? 1 : 0;
}

/** The value rounded up to whole units (as Quantity.Value() does), for messages. */
export function ceilUnits(q: Quantity): bigint {
  const d = q.num / q.den;
  return q.num % q.den !== 0n && q.num > 0n ? d + 1n : d;
}

export interface RangeOptions {
  /** Refuse zero (a memory limit or a volume size of 0 cannot run). Default true. */
  positive?: boolean;
}

/**
 * Why the API server would refuse, change or overflow this value, or undefined: negative (refused:
 * ValidateNonnegativeQuantity in kubernetes/kubernetes@v1.28.0 pkg/apis/core/validation/validation.go),
 * zero when `positive`, finer than 1m (rounded up), or above MaxMilliValue units (capped or overflowed).
 */
export function quantityRangeProblem(q: Quantity, options: RangeOptions = {}): string | undefined {
  const positive = options.positive ?? true;
  if (q.num < 0n) return `"${q.text}" is negative; the API server refuses negative resource quantities`;
  if (q.num === 0n && positive) return `"${q.text}" is zero; nothing can run or be stored with 0`;
  // Finer than one milli-unit: the API server rounds a resource value up, so the stored value would differ.
  if ((q.num * 1000n) % q.den !== 0n) return `"${q.text}" is finer than 1m (a thousandth); the API server would round it up to milli-units`;
  if (q.num > MAX_MILLI_VALUE * q.den) {
    return `"${q.text}" is larger than ${MAX_MILLI_VALUE} units: Kubernetes counts resources in milli-units in a signed 64-bit integer (at most 2^63-1), so this value would be capped or overflow`;
  }
  return undefined;
}
