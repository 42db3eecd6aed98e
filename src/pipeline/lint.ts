// The lint stage: golangci-lint v2 at a pinned image, honouring the repository's own configuration,
// its findings read from the JSON report rather than from text meant for humans.

import type { Client } from '@dagger.io/dagger'
import {
  BUILD_CACHE,
  cacheVolumeNames,
  EXPECT_ANY_EXIT_CODE,
  MODULE_CACHE,
  SOURCE_ROOT,
  sourceDirectory,
  withPrivateModules
} from './build.js'
import type { PipelineConfig } from '../inputs/pipeline-config.js'
import { parseGolangciLint, tailOf, type LintFinding, type Outcome } from './results.js'

const REPORT = '/tmp/golangci-lint.json'
export const LINT_CACHE = '/root/.cache/golangci-lint'

export function lintImage(cfg: PipelineConfig): string {
  return `golangci/golangci-lint:${cfg.golangciLintVersion}`
}

// The report goes to a file, so text output the repository's .golangci.yml asks for cannot mix
// into it; absolute paths let it be mapped back to the repository whatever relative-path-mode says;
// exit code 1 means findings whatever issues-exit-code the repository's configuration sets.
export const LINT_COMMAND = [
  'golangci-lint',
  'run',
  `--output.json.path=${REPORT}`,
  '--show-stats=false',
  '--path-mode=abs',
  '--issues-exit-code=1',
  './...'
]

/** The linter's own caches: its results cache and, as its Go may differ from the module's, a build cache. */
export function lintCacheVolumeNames(cfg: PipelineConfig): { results: string; build: string } {
  return {
    results: `golangci-lint-${cfg.golangciLintVersion}`,
    build: `go-build-golangci-lint-${cfg.golangciLintVersion}`
  }
}

export interface LintResult {
  findings: LintFinding[]
}

export async function runLint(client: Client, cfg: PipelineConfig): Promise<Outcome<LintResult>> {
  const lintCaches = lintCacheVolumeNames(cfg)
  const ran = client
    .container()
    .from(lintImage(cfg))
    .withMountedCache(MODULE_CACHE, client.cacheVolume(cacheVolumeNames(cfg).modules))
    .withMountedCache(BUILD_CACHE, client.cacheVolume(lintCaches.build))
    .withMountedCache(LINT_CACHE, client.cacheVolume(lintCaches.results))
    .withEnvVariable('GOMODCACHE', MODULE_CACHE)
    .withEnvVariable('GOCACHE', BUILD_CACHE)
    .withEnvVariable('GOLANGCI_LINT_CACHE', LINT_CACHE)
    .with(withPrivateModules(client, cfg))
    .withDirectory(SOURCE_ROOT, sourceDirectory(client, cfg))
    .withWorkdir(SOURCE_ROOT)
    .withExec(LINT_COMMAND, { expect: EXPECT_ANY_EXIT_CODE })

  const exitCode = await ran.exitCode()
  const command = LINT_COMMAND.join(' ')
  // 0: clean, 1: issues found; anything else means the linter itself could not run.
  if (exitCode === 0 || exitCode === 1) {
    const findings = parseGolangciLint(await ran.file(REPORT).contents(), {
      containerRoot: SOURCE_ROOT,
      hostRoot: cfg.sourceFromRepo
    })
    if (findings && findings.length === 0 && exitCode === 0) return { result: { findings } }
    if (findings && findings.length > 0) {
      const shown = findings.slice(0, 20).map(f => `${f.file}:${f.line}:${f.column}: ${f.message} (${f.linter})`)
      return {
        result: { findings },
        failure: {
          message: `golangci-lint found ${findings.length} issue${findings.length === 1 ? '' : 's'}`,
          command,
          exitCode,
          outputTail: shown.join('\n')
        }
      }
    }
  }
  const [stdout, stderr] = await Promise.all([ran.stdout(), ran.stderr()])
  return {
    result: { findings: [] },
    failure: {
      message: `golangci-lint could not lint the module (exit code ${exitCode})`,
      command,
      exitCode,
      outputTail: tailOf([stdout, stderr].filter(s => s.trim() !== '').join('\n'))
    }
  }
}
