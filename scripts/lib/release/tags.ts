// The image tags and OCI labels of one build of the users API, computed from the git ref and commit
// that triggered it (the release workflow passes GITHUB_REF and GITHUB_SHA). Pure: same input, same tags.
//
// Tag scheme (the same names docker/metadata-action would give, so tooling that knows those reads ours):
//   every build            sha-<first 7 hex digits of the commit>   (docker/metadata-action@v6.2.0:README.md, "type=sha",
//                                                                     default short length 7)
//   a release tag vX.Y.Z    vX.Y.Z as pushed (semver 2.0.0, optional pre-release), besides the sha tag
// Only these two shapes exist: an environment's env.yaml pins one of them, and promote moves it along.
import { randomBytes } from 'node:crypto';
import { UsageError } from '../core/errors.ts';
import { gitRevisionProblem } from '../inputs/refs-urls.ts';

export const SHORT_SHA_LENGTH = 7;
const SHA_PATTERN = /^[0-9a-f]{40}$/;
// semver.org 2.0.0, with the leading "v" git release tags carry; build metadata (+…) is not a valid
// OCI tag character, so it is refused rather than silently dropped.
const RELEASE_TAG = /^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*)?$/;
/** An image tag as env.yaml accepts it (schemas/env.schema.json: tag) and OCI distribution allows. */
export const IMAGE_TAG_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

export interface BuildRef {
  /** GITHUB_REF, e.g. refs/heads/main or refs/tags/v1.2.3 */
  ref: string;
  /** GITHUB_SHA: the full 40-hex commit id */
  sha: string;
  /** Image repository without tag, from gitops.yaml (e.g. ghcr.io/example-org/users-api) */
  image: string;
  /** Where a pull request's image goes (gitops.yaml previews.image): never the release repository. */
  previewImage?: string;
  /** The repository's web URL for org.opencontainers.image.source, e.g. https://github.com/o/r */
  sourceUrl: string;
}

export interface BuildTags {
  /** The image repository, without tag */
  image: string;
  /** The tag every build gets: sha-<short> */
  shaTag: string;
  /** vX.Y.Z when the build is of a release tag */
  releaseTag?: string;
  /** Full references to push, sha tag first */
  references: string[];
  /** OCI annotations/labels (opencontainers image-spec annotations.md) */
  labels: Record<string, string>;
}

export function shaTag(sha: string): string {
  if (!SHA_PATTERN.test(sha)) throw new UsageError(`commit ${JSON.stringify(sha)} is not a full 40-digit lowercase hex commit id (GITHUB_SHA)`);
  return `sha-${sha.slice(0, SHORT_SHA_LENGTH)}`;
}

/**
 * Why `ref` is not a full ref of a build (refs/heads/<branch>, refs/tags/<tag>, refs/pull/<n>/merge|head),
 * or undefined. The name is checked by the one ref check of the toolkit (inputs/refs-urls.ts, git's
 * check-ref-format rules): no "..", no control characters or newlines, no empty part.
 */
export function buildRefProblem(ref: string): string | undefined {
  const problem = gitRevisionProblem(ref);
  if (problem) return `ref ${JSON.stringify(ref)} ${problem}`;
  const m = /^refs\/(heads|tags|pull)\/(.+)$/.exec(ref);
  if (!m) return `ref ${JSON.stringify(ref)} is neither a branch (refs/heads/…), a tag (refs/tags/…) nor a pull request (refs/pull/<n>/merge)`;
  if (m[1] === 'pull' && !/^[1-9][0-9]{0,9}\/(merge|head)$/.test(m[2]!)) return `ref ${JSON.stringify(ref)} is not a pull request ref (refs/pull/<number>/merge or /head)`;
  return undefined;
}

/** The release version of a ref, or undefined for a branch; a tag that is not vX.Y.Z is an error. */
export function releaseTagOf(ref: string): string | undefined {
  const problem = buildRefProblem(ref);
  if (problem) throw new UsageError(problem);
  if (ref.startsWith('refs/heads/') || ref.startsWith('refs/pull/')) return undefined;
  if (!ref.startsWith('refs/tags/')) throw new UsageError(`ref ${JSON.stringify(ref)} is neither a branch (refs/heads/…) nor a tag (refs/tags/…)`);
  const tag = ref.slice('refs/tags/'.length);
  if (!RELEASE_TAG.test(tag)) {
    throw new UsageError(`tag ${JSON.stringify(tag)} is not a release tag: use vMAJOR.MINOR.PATCH with an optional -pre.release (e.g. v1.4.2, v1.5.0-rc.1)`);
  }
  return tag;
}

export function buildTags(b: BuildRef): BuildTags {
  if (!/^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)+$/.test(b.image)) {
    throw new UsageError(`image ${JSON.stringify(b.image)} is not a lowercase registry/repository reference without tag (gitops.yaml: image)`);
  }
  const sha = shaTag(b.sha);
  const release = releaseTagOf(b.ref);
  const tags = release ? [sha, release] : [sha];
  // A pull request's build goes to the previews repository: a same-repository pull request can push, and
  // must never overwrite a tag of the release repository.
  const pull = b.ref.startsWith('refs/pull/');
  if (pull && !b.previewImage) throw new UsageError('a pull request build needs gitops.yaml previews.image (a repository of its own, e.g. ghcr.io/<owner>/users-api-previews): it never pushes to the release repository');
  if (pull && b.previewImage === b.image) throw new UsageError(`gitops.yaml previews.image must differ from image (${b.image}): pull requests never push to the release repository`);
  const image = pull ? b.previewImage! : b.image;
  if (!/^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)+$/.test(image)) {
    throw new UsageError(`image ${JSON.stringify(image)} is not a lowercase registry/repository reference without tag (gitops.yaml: previews.image)`);
  }
  return {
    image,
    shaTag: sha,
    releaseTag: release,
    references: tags.map((t) => `${image}:${t}`),
    labels: {
      'org.opencontainers.image.source': b.sourceUrl,
      'org.opencontainers.image.revision': b.sha,
      'org.opencontainers.image.version': release ?? sha,
      'org.opencontainers.image.title': 'users-api',
    },
  };
}

/**
 * The step outputs the release workflow reads, in $GITHUB_OUTPUT's format: `key=value` lines, and a list as
 * `key<<DELIMITER` … `DELIMITER` (GitHub docs, "Workflow commands: Multiline strings"). The delimiter is
 * random per call, so no value can end a block early, and a value holding a line break is refused outright:
 * each line is one value, never a way to add an output of its own (`image=…`).
 */
export function githubOutput(t: BuildTags, random: () => string = () => randomBytes(16).toString('hex')): string {
  const delimiter = `ghadelimiter_${random()}`;
  const value = (key: string, v: string): string => {
    if (/[\r\n]/.test(v)) throw new UsageError(`output ${key}: ${JSON.stringify(v.slice(0, 80))} contains a line break; refusing to write it to $GITHUB_OUTPUT`);
    if (v.includes(delimiter)) throw new UsageError(`output ${key} contains the output delimiter; refusing to write it`);
    return v;
  };
  const block = (key: string, lines: string[]): string => `${key}<<${delimiter}\n${lines.map((l) => value(key, l)).join('\n')}\n${delimiter}\n`;
  return [
    `image=${value('image', t.image)}\n`,
    `sha-tag=${value('sha-tag', t.shaTag)}\n`,
    `release-tag=${value('release-tag', t.releaseTag ?? '')}\n`,
    block('tags', t.references),
    block('labels', Object.entries(t.labels).map(([k, v]) => `${k}=${v}`)),
  ].join('');
}
