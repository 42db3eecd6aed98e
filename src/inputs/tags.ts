// Image tags derived from the GitHub context the way docker/metadata-action's defaults name them,
// so a repository moving to this action keeps the tags its users already pull.

/** A Docker tag: 1 to 128 of [A-Za-z0-9_.-], not starting with '.' or '-'. */
export const TAG_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/

const SEMVER = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?$/

/** Replaces what a tag cannot hold by '-', as metadata-action does for branch names like `feat/x`. */
export function sanitizeTag(raw: string): string {
  const cleaned = raw.replace(/[^A-Za-z0-9_.-]/g, '-').replace(/^[.-]+/, '')
  return cleaned.slice(0, 128)
}

export interface TagContext {
  /** GITHUB_REF, e.g. refs/heads/main, refs/tags/v1.2.3, refs/pull/42/merge. */
  ref?: string
  sha?: string
  /** The repository's default branch (from the event payload), to tag it `latest`. */
  defaultBranch?: string
}

/**
 * The default tags for a ref: the branch name (+ `latest` on the default branch), the Git tag or
 * its semver forms `1.2.3`, `1.2`, `1` (only `1.2.3-rc.1` for a pre-release), `pr-N`, and `sha-<7>`.
 * Outside GitHub (no ref, no SHA) the image is tagged `latest`.
 */
export function defaultTags({ ref = '', sha = '', defaultBranch }: TagContext): string[] {
  const tags: string[] = []
  const branch = /^refs\/heads\/(.+)$/.exec(ref)?.[1]
  const gitTag = /^refs\/tags\/(.+)$/.exec(ref)?.[1]
  const pullRequest = /^refs\/pull\/(\d+)\//.exec(ref)?.[1]
  if (branch) {
    tags.push(sanitizeTag(branch))
    if (branch === defaultBranch) tags.push('latest')
  } else if (gitTag) {
    const semver = SEMVER.exec(gitTag)
    if (semver) {
      const [, major, minor, patch, prerelease, build] = semver
      tags.push(
        sanitizeTag(`${major}.${minor}.${patch}${prerelease ? `-${prerelease}` : ''}${build ? `+${build}` : ''}`)
      )
      if (!prerelease) tags.push(`${major}.${minor}`, major)
    } else {
      tags.push(sanitizeTag(gitTag))
    }
  } else if (pullRequest) {
    tags.push(`pr-${pullRequest}`)
  }
  if (/^[0-9a-f]{7,}$/i.test(sha)) tags.push(`sha-${sha.slice(0, 7).toLowerCase()}`)
  const unique = [...new Set(tags.filter(t => TAG_PATTERN.test(t)))]
  return unique.length > 0 ? unique : ['latest']
}

/** The version an image carries in `org.opencontainers.image.version`: the semver tag, else the first tag. */
export function imageVersion(tags: string[]): string {
  return tags.find(t => /^\d+\.\d+\.\d+/.test(t)) ?? tags[0] ?? ''
}
