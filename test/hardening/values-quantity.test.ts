// The Kubernetes quantity parser (scripts/lib/core/quantity.ts) against the grammar of
// kubernetes/apimachinery@v0.28.0 pkg/api/resource/quantity.go, and the ranges the API server enforces.
import { describe, expect, it } from 'vitest';
import { compareQuantities, isQuantity, MAX_MILLI_VALUE, parseQuantity, quantityRangeProblem, type Quantity } from '../../scripts/lib/core/quantity.ts';

function q(text: string): Quantity {
  const p = parseQuantity(text);
  if (!isQuantity(p)) throw new Error(`${text}: ${p.error}`);
  return p;
}
const value = (text: string): string => {
  const x = q(text);
  return x.den === 1n ? String(x.num) : `${x.num}/${x.den}`;
};

describe('quantity grammar (apimachinery v0.28 quantity.go)', () => {
  it.each([
    ['0', '0'],
    ['1', '1'],
    ['100m', '1/10'],
    ['1.5', '3/2'],
    ['.5', '1/2'],
    ['1.', '1'],
    ['+2', '2'],
    ['-2', '-2'],
    ['1Ki', '1024'],
    ['1.5Gi', '1610612736'],
    ['1Ei', String(2n ** 60n)],
    ['5n', '1/200000000'],
    ['3u', '3/1000000'],
    ['2k', '2000'],
    ['1M', '1000000'],
    ['1G', '1000000000'],
    ['1T', '1000000000000'],
    ['1P', String(10n ** 15n)],
    ['1E', String(10n ** 18n)],
    ['1e3', '1000'],
    ['1E3', '1000'],
    ['2e-3', '1/500'],
    ['1.5e+2', '150'],
  ])('%s is exactly %s', (text, expected) => {
    expect(value(text)).toBe(expected);
  });

  it.each(['', '.', '+', '-', 'Gi', '1 Gi', ' 1Gi', '1Gi ', '1K', '1kb', '1gi', '1e', '1e+', '1e1.5', '1Ki3', '0x10', '1,5Gi', '1_000', '1..5', '1Gi\n', '１Gi'])(
    'refuses %j with a reason',
    (text) => {
      const p = parseQuantity(text);
      expect(isQuantity(p)).toBe(false);
      expect((p as { error: string }).error).toMatch(/quantity|suffix|empty/);
    },
  );

  it('compares exactly across suffixes, without floating point', () => {
    expect(compareQuantities(q('1Gi'), q('1024Mi'))).toBe(0);
    expect(compareQuantities(q('1.5Gi'), q('1536Mi'))).toBe(0);
    expect(compareQuantities(q('1000m'), q('1'))).toBe(0);
    expect(compareQuantities(q('1e3'), q('1k'))).toBe(0);
    expect(compareQuantities(q('1G'), q('1Gi'))).toBe(-1);
    expect(compareQuantities(q('257Mi'), q('256Mi'))).toBe(1);
    // Two values a float64 cannot tell apart.
    expect(compareQuantities(q('9007199254740993'), q('9007199254740992'))).toBe(1);
    expect(compareQuantities(q('99999999999999999999999Ti'), q('99999999999999999999998Ti'))).toBe(1);
  });
});

describe('quantity ranges the API server enforces', () => {
  it.each([
    ['0Gi', /is zero/],
    ['0Mi', /is zero/],
    ['-1Mi', /negative/],
    ['99999999999999999999999Ti', /larger than 9223372036854775 units/],
    ['8Ei', /larger than/],
    ['1e19', /larger than/],
    ['1e999999999', /larger than/],
    ['0.5n', /finer than 1m/],
    ['5n', /finer than 1m/],
    ['0.5m', /finer than 1m/],
    ['1e-4', /finer than 1m/],
  ])('%s is refused', (text, message) => {
    expect(quantityRangeProblem(q(text))).toMatch(message);
  });

  it('accepts the largest value whose milli-value fits in an int64, and not one more', () => {
    expect(quantityRangeProblem(q(String(MAX_MILLI_VALUE)))).toBeUndefined();
    expect(quantityRangeProblem(q(String(MAX_MILLI_VALUE + 1n)))).toMatch(/larger than/);
  });

  it('accepts zero only when asked to', () => {
    expect(quantityRangeProblem(q('0'), { positive: false })).toBeUndefined();
  });

  it.each(['1m', '100m', '1Gi', '20Gi', '512Mi', '1.5', '8Pi'])('%s is in range', (text) => {
    expect(quantityRangeProblem(q(text))).toBeUndefined();
  });
});
