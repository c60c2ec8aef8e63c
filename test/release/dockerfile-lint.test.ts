// The Dockerfile, linted by the Docker language server's validator (dockerfile-utils) with every rule
// an error, and the runtime stage's strictness that no linter checks for us.
import { readFileSync } from 'node:fs';
import { validate, ValidationSeverity } from 'dockerfile-utils';
import { describe, expect, it } from 'vitest';

const text = readFileSync('Dockerfile', 'utf8');
const E = ValidationSeverity.ERROR;
const strict = {
  deprecatedMaintainer: E, directiveCasing: E, emptyContinuationLine: E, instructionCasing: E, instructionCmdMultiple: E,
  instructionEntrypointMultiple: E, instructionHealthcheckMultiple: E, instructionJSONInSingleQuotes: E, instructionWorkdirRelative: E,
};
const runtime = text.slice(text.lastIndexOf('\nFROM '));

describe('Dockerfile', () => {
  it('has no lint findings with every rule set to error', () => {
    expect(validate(text, strict).map((d) => `line ${d.range.start.line + 1}: ${d.message}`)).toEqual([]);
  });

  it('the linter finds planted faults (it is really checking)', () => {
    const bad = validate('FROM node:24\nworkdir app\nCMD [\'node\']\nHEALTHCHECK --interval=abc CMD true\n', strict);
    expect(bad.length).toBeGreaterThanOrEqual(3);
  });

  it('removes every package manager from the runtime stage, before USER', () => {
    const rm = runtime.match(/RUN rm -rf ((?:[^\n\\]|\\\n)*)/)?.[1] ?? '';
    for (const path of ['/usr/local/lib/node_modules/npm', '/usr/local/bin/npm', '/usr/local/bin/npx', '/usr/local/bin/corepack', '/usr/local/bin/yarn', '/opt/yarn-v*', '/sbin/apk']) {
      expect(rm, path).toContain(path);
    }
    expect(rm).not.toContain('/lib/apk'); // the package database stays for image scanners
    expect(runtime.indexOf('RUN rm -rf')).toBeLessThan(runtime.indexOf('\nUSER '));
  });

  it('labels the image with its source, revision and version (OCI annotations)', () => {
    for (const key of ['source', 'revision', 'version', 'title']) expect(runtime).toContain(`org.opencontainers.image.${key}=`);
    expect(runtime).toMatch(/ARG VERSION=/);
    expect(runtime).toMatch(/ARG REVISION=/);
  });
});
