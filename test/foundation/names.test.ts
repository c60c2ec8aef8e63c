import { describe, expect, it } from 'vitest';
import { dns1123LabelProblem, dns1123SubdomainProblem } from '../../scripts/lib/core/names.ts';

describe('Kubernetes name rules', () => {
  it.each(['dev', 'qa-7', 'a', '0a', 'x'.repeat(63)])('accepts the label %j', (name) => {
    expect(dns1123LabelProblem(name)).toBeNull();
  });

  it.each([
    ['', /empty/],
    ['Bad_Name', /lower case/],
    ['bad_name', /"_"/],
    ['-dev', /start and end/],
    ['dev-', /start and end/],
    ['x'.repeat(64), /64 characters long; the limit is 63/],
    ['dév', /"é"/],
  ])('refuses the label %j and says why', (name, why) => {
    expect(dns1123LabelProblem(name)).toMatch(why);
  });

  it('applies a tighter limit when a suffix will be added', () => {
    expect(dns1123LabelProblem('abcdef', 5)).toMatch(/limit is 5/);
  });

  it('checks each part of a subdomain', () => {
    expect(dns1123SubdomainProblem('users.example.com')).toBeNull();
    expect(dns1123SubdomainProblem('users..example')).toMatch(/empty/);
    expect(dns1123SubdomainProblem('x'.repeat(254))).toMatch(/limit is 253/);
  });
});
