// Links the review formats print (issue 30: `--source-url 'javascript:…'` became an href): only absolute
// http(s) URLs are ever linked. The CLI refuses anything else with exit 2 naming its option; the
// formatters check again, so a report built by other code cannot link a script either.
import { UsageError } from '../../core/errors.ts';

/** The URL when it is an absolute http: or https: URL without credentials or control characters, else undefined. */
export function httpUrl(value: string): string | undefined {
  // Control characters and whitespace would be dropped or kept differently by URL parsers and browsers.
  if (value === '' || /[\u0000-\u0020\u007f-\u009f]/.test(value)) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (url.username !== '' || url.password !== '' || url.hostname === '') return undefined;
  return value;
}

/** A URL option's value, or a UsageError (exit 2) naming the option and what it accepts. */
export function httpUrlOption(option: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (httpUrl(value) === undefined) {
    throw new UsageError(`${option} must be an absolute http:// or https:// URL without credentials (e.g. https://github.com/<owner>/<repo>/blob/<sha>), not ${JSON.stringify(value)}`);
  }
  return value;
}
