import { mkdtempSync } from 'node:fs'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { InputError } from '../src/inputs/parse.js'
import {
  defaultBinaryName,
  parsePipelineInputs,
  stateScopeForStages,
  type PipelineConfig
} from '../src/inputs/pipeline-config.js'
import { defaultTags, sanitizeTag } from '../src/inputs/tags.js'

const repo = mkdtempSync(join(tmpdir(), 'pipeline-config-'))

beforeAll(async () => {
  // A repository with the module in a subdirectory, a cmd/ package, a nested module and a file.
  await mkdir(join(repo, 'svc', 'cmd', 'app'), { recursive: true })
  await mkdir(join(repo, 'svc', 'tools'), { recursive: true })
  await mkdir(join(repo, 'empty'), { recursive: true })
  await writeFile(join(repo, 'svc', 'go.mod'), 'module github.com/acme/hello/v2\n\ngo 1.22\n\ntoolchain go1.23.4\n')
  await writeFile(join(repo, 'svc', 'go.sum'), '')
  await writeFile(join(repo, 'svc', 'tools', 'go.mod'), 'module github.com/acme/hello/tools\n\ngo 1.22\n')
  await writeFile(join(repo, 'svc', 'main.go'), 'package main\n')
  await writeFile(join(repo, 'event.json'), JSON.stringify({ repository: { default_branch: 'main' } }))
})

afterAll(async () => {
  await rm(repo, { recursive: true, force: true })
})

function reader(values: Record<string, string>): (name: string) => string {
  return name => values[name] ?? ''
}

const github = (): NodeJS.ProcessEnv => ({
  GITHUB_REF: 'refs/heads/main',
  GITHUB_SHA: '4b825dc642cb6eb9a060e54bf8d69288fbee4904',
  GITHUB_REPOSITORY: 'acme/hello',
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_EVENT_PATH: join(repo, 'event.json'),
  SOURCE_DATE_EPOCH: '1700000000'
})

const parse = (values: Record<string, string>, env: NodeJS.ProcessEnv = github()): Promise<PipelineConfig> =>
  parsePipelineInputs(reader({ source: 'svc', ...values }), env, repo)

describe('defaults', () => {
  test('all stages but publish, versions from go.mod, names from the module path', async () => {
    const cfg = await parse({})
    expect(cfg).toMatchObject({
      stages: ['build', 'lint', 'test', 'image', 'scan'],
      allStages: true,
      source: join(repo, 'svc'),
      sourceFromRepo: 'svc',
      modulePath: 'github.com/acme/hello/v2',
      goVersion: '1.23.4',
      goVersionFrom: 'go.mod',
      hasGoSum: true,
      package: '.',
      binaryName: 'hello',
      ldflags: '-s -w',
      output: join(repo, 'bin'),
      tags: ['main', 'latest', 'sha-4b825dc'],
      baseImage: 'gcr.io/distroless/static-debian12:nonroot',
      scanner: 'trivy',
      severities: ['CRITICAL', 'HIGH'],
      dryRun: false,
      goPrivate: [],
      race: false,
      coverage: true,
      golangciLintVersion: 'v2.12.2',
      testFlags: []
    })
    expect(cfg.platforms.map(p => p.name)).toEqual(['linux/amd64', 'linux/arm64'])
    expect(cfg.image).toBeUndefined()
    expect(cfg.registry).toBeUndefined()
    expect(cfg.labels).toEqual({
      'org.opencontainers.image.source': 'https://github.com/acme/hello',
      'org.opencontainers.image.revision': '4b825dc642cb6eb9a060e54bf8d69288fbee4904',
      'org.opencontainers.image.created': '2023-11-14T22:13:20.000Z',
      'org.opencontainers.image.version': 'main',
      'org.opencontainers.image.title': 'hello'
    })
  })

  test('all publishes once image and credentials are set', async () => {
    const cfg = await parse({
      image: 'ghcr.io/acme/hello',
      'registry-username': 'octocat',
      'registry-password': 'ghp_s3cr3t'
    })
    expect(cfg.stages).toEqual(['build', 'lint', 'test', 'image', 'scan', 'publish'])
    expect(cfg.registry).toEqual({ address: 'ghcr.io', username: 'octocat', password: 'ghp_s3cr3t' })
  })

  test('explicit inputs win', async () => {
    const cfg = await parse({
      stage: 'build\ntest',
      'go-version': '1.24rc1',
      platforms: 'linux/arm/v7, windows/amd64, darwin/arm64',
      package: 'github.com/acme/hello/v2/cmd/app',
      'binary-name': 'hello-cli',
      output: 'dist',
      tags: 'edge,1.0.0',
      race: 'true',
      coverage: 'false',
      'test-flags': '-count=1  -tags=integration',
      'go-private': 'github.com/acme/*, gitlab.com/acme/*',
      'go-private-token': 'tok3n',
      severity: 'critical,high,medium',
      scanner: 'grype',
      'base-image': 'scratch'
    })
    expect(cfg).toMatchObject({
      stages: ['build', 'test'],
      allStages: false,
      goVersion: '1.24rc1',
      goVersionFrom: 'input',
      package: './cmd/app',
      binaryName: 'hello-cli',
      output: join(repo, 'dist'),
      tags: ['edge', '1.0.0'],
      race: true,
      coverage: false,
      testFlags: ['-count=1', '-tags=integration'],
      goPrivate: ['github.com/acme/*', 'gitlab.com/acme/*'],
      goPrivateToken: 'tok3n',
      severities: ['CRITICAL', 'HIGH', 'MEDIUM'],
      scanner: 'grype',
      baseImage: 'scratch'
    })
    expect(cfg.platforms).toEqual([
      { os: 'linux', arch: 'arm', variant: 'v7', name: 'linux/arm/v7' },
      { os: 'windows', arch: 'amd64', name: 'windows/amd64' },
      { os: 'darwin', arch: 'arm64', name: 'darwin/arm64' }
    ])
    expect(cfg.labels['org.opencontainers.image.version']).toBe('1.0.0')
  })

  test('docker.io is the registry of a short repository name', async () => {
    const cfg = await parse({
      stage: 'publish',
      image: 'acme/hello',
      'registry-username': 'u',
      'registry-password': 'p'
    })
    expect(cfg.registry?.address).toBe('docker.io')
    const local = await parse({
      stage: 'publish',
      image: 'localhost:5000/hello',
      'registry-username': 'u',
      'registry-password': 'p'
    })
    expect(local.registry?.address).toBe('localhost:5000')
  })
})

describe('test-flags are split as shell words, never given to a shell', () => {
  test.each([
    ['single quotes keep a regex whole', "-run 'TestA|TestB' -count=1", ['-run', 'TestA|TestB', '-count=1']],
    ['a flag value as its own word', '-run TestFoo -timeout 5m', ['-run', 'TestFoo', '-timeout', '5m']],
    [
      'double quotes, with backslash escapes inside',
      '-run "Test A" -ldflags="-X \\"main.v=1\\""',
      ['-run', 'Test A', '-ldflags=-X "main.v=1"']
    ],
    [
      'a backslash escapes a space or a quote outside quotes',
      "-skip Test\\ B -run it\\'s",
      ['-skip', 'Test B', '-run', "it's"]
    ],
    [
      'quoted parts join into one word; an empty quote is an empty word',
      "-run='A'\"|B\" -skip ''",
      ['-run=A|B', '-skip', '']
    ],
    [
      '$ and operators are literal inside single quotes',
      "-run '^Test$' -skip ';|&$(x)`y`'",
      ['-run', '^Test$', '-skip', ';|&$(x)`y`']
    ],
    ['newlines separate words like spaces', '-count=1\n  -short\n', ['-count=1', '-short']]
  ])('%s', async (_, raw, expected) => {
    expect((await parse({ 'test-flags': raw })).testFlags).toEqual(expected)
  })

  test.each([
    ['an unterminated single quote', "-run 'TestA|TestB -count=1", /unterminated ' quote/],
    ['an unterminated double quote', '-run "TestA', /unterminated " quote/],
    ['a command separator', '-count=1; rm -rf /', /shell operator ;/],
    ['a pipe outside quotes', '-run A|B', /shell operator \|/],
    ['a background or and-list operator', '-count=1 && echo', /shell operator &/],
    ['a redirection', '-count=1 >out', /shell operator >/],
    ['a command substitution', '-run $(cat tests)', /\$\( expansion/],
    ['a command substitution in double quotes', '-run "$(cat tests)"', /\$\( expansion/],
    ['a variable', '-run $TESTS', /\$T expansion/],
    ['backticks', '-run `cat tests`', /backtick/],
    ['a comment', '-count=1 # all of them', /comment/]
  ])('%s is refused, naming the input and its value', async (_, raw, why) => {
    const error = await parse({ 'test-flags': raw }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(InputError)
    expect(error).toMatchObject({ input: 'test-flags', value: raw })
    expect((error as InputError).allowed).toMatch(why)
    expect((error as InputError).allowed).toContain("-run 'TestA|TestB'")
  })
})

describe('bad inputs fail before any session, naming the input and the value', () => {
  const cases: [string, Record<string, string>, string, string][] = [
    ['unknown stage', { stage: 'build,deploy' }, 'stage', 'deploy'],
    ['misspelt arch', { platforms: 'linux/amd65' }, 'platforms', 'linux/amd65'],
    ['os only', { platforms: 'linux' }, 'platforms', 'linux'],
    ['arch only', { platforms: '/arm64' }, 'platforms', '/arm64'],
    ['unknown variant', { platforms: 'linux/arm/v9' }, 'platforms', 'linux/arm/v9'],
    ['too many parts', { platforms: 'linux/arm/v7/x' }, 'platforms', 'linux/arm/v7/x'],
    [
      'image stage without a Linux platform',
      { stage: 'image', platforms: 'darwin/arm64' },
      'platforms',
      'darwin/arm64'
    ],
    ['publish without image', { stage: 'publish' }, 'image', ''],
    [
      'publish without username',
      { stage: 'publish', image: 'ghcr.io/acme/hello', 'registry-password': 'p' },
      'registry-username',
      ''
    ],
    [
      'all with image but no password',
      { image: 'ghcr.io/acme/hello', 'registry-username': 'u' },
      'registry-password',
      ''
    ],
    ['image with a tag', { image: 'ghcr.io/acme/hello:1.0' }, 'image', 'ghcr.io/acme/hello:1.0'],
    ['image with upper case', { image: 'ghcr.io/Acme/hello' }, 'image', 'ghcr.io/Acme/hello'],
    ['invalid tag characters', { tags: 'v1,feature/x' }, 'tags', 'feature/x'],
    ['tag starting with a dot', { tags: '.hidden' }, 'tags', '.hidden'],
    ['source without go.mod', { source: 'empty' }, 'source', join(repo, 'empty')],
    ['package outside the module', { package: '../empty' }, 'package', '../empty'],
    ['package that is another module', { package: './tools' }, 'package', './tools'],
    ['package that does not exist', { package: './cmd/nope' }, 'package', './cmd/nope'],
    ['package pattern', { package: './...' }, 'package', './...'],
    ['unknown scanner', { scanner: 'clair' }, 'scanner', 'clair'],
    ['unknown severity', { severity: 'CRITICAL,SEVERE' }, 'severity', 'SEVERE'],
    ['malformed go-version', { 'go-version': 'go1.23' }, 'go-version', 'go1.23'],
    ['binary name with a slash', { 'binary-name': 'bin/hello' }, 'binary-name', 'bin/hello'],
    ['token without patterns', { 'go-private-token': 'tok' }, 'go-private', ''],
    ['golangci-lint v1', { 'golangci-lint-version': 'v1.64.8' }, 'golangci-lint-version', 'v1.64.8'],
    ['golangci-lint v2.0 (no --path-mode)', { 'golangci-lint-version': 'v2.0.2' }, 'golangci-lint-version', 'v2.0.2'],
    ['test flag that is not a flag', { 'test-flags': '-count=1 ./pkg' }, 'test-flags', './pkg'],
    ['-json is always set', { 'test-flags': '-json' }, 'test-flags', '-json'],
    ['-json among values', { 'test-flags': "-run 'A B' -json=false" }, 'test-flags', '-json=false'],
    ['a value after a flag that has one already', { 'test-flags': '-count=1 TestFoo' }, 'test-flags', 'TestFoo'],
    ['dry-run not a boolean', { 'dry-run': 'yes' }, 'dry-run', 'yes'],
    ['race not a boolean', { race: 'on' }, 'race', 'on'],
    // The reference grammar every image input shares: a path component is lowercase.
    [
      'base-image with an uppercase path',
      { 'base-image': 'gcr.io/Distroless/static' },
      'base-image',
      'gcr.io/Distroless/static'
    ],
    ['base-image with a short digest', { 'base-image': 'alpine@sha256:abc' }, 'base-image', 'alpine@sha256:abc']
  ]
  test.each(cases)('%s', async (_, values, input, value) => {
    const error = await parse(values).then(
      () => undefined,
      (e: unknown) => e
    )
    expect(error).toBeInstanceOf(InputError)
    expect(error).toMatchObject({ input, value })
    expect((error as InputError).message).toContain(`'${input}'`)
    expect((error as InputError).allowed.length).toBeGreaterThan(10)
  })

  test('the error for a secret input never repeats another secret', async () => {
    const error = await parse({
      stage: 'publish',
      image: 'ghcr.io/acme/hello',
      'registry-password': 'ghp_s3cr3t'
    }).catch((e: unknown) => e)
    expect(String((error as Error).message)).not.toContain('ghp_s3cr3t')
  })
})

describe('tags as docker/metadata-action names them', () => {
  const sha = 'A1B2C3D4E5F60718293a4b5c6d7e8f9012345678'
  test.each([
    ['default branch', 'refs/heads/main', ['main', 'latest', 'sha-a1b2c3d']],
    ['other branch, slashes replaced', 'refs/heads/feature/login', ['feature-login', 'sha-a1b2c3d']],
    ['semver tag', 'refs/tags/v1.2.3', ['1.2.3', '1.2', '1', 'sha-a1b2c3d']],
    ['semver pre-release: no short forms', 'refs/tags/v2.0.0-rc.1', ['2.0.0-rc.1', 'sha-a1b2c3d']],
    ['semver with build metadata', 'refs/tags/1.4.0+build.7', ['1.4.0-build.7', '1.4', '1', 'sha-a1b2c3d']],
    ['other tag', 'refs/tags/nightly', ['nightly', 'sha-a1b2c3d']],
    ['pull request', 'refs/pull/42/merge', ['pr-42', 'sha-a1b2c3d']]
  ])('%s', (_, ref, expected) => {
    expect(defaultTags({ ref, sha, defaultBranch: 'main' })).toEqual(expected)
  })
  test('without a GitHub context the image is tagged latest', () => {
    expect(defaultTags({})).toEqual(['latest'])
  })
  test('sanitizeTag drops leading dots and dashes and caps the length', () => {
    expect(sanitizeTag('-.x/y')).toBe('x-y')
    expect(sanitizeTag('a'.repeat(200))).toHaveLength(128)
  })
  test('the default branch comes from the event payload', async () => {
    const onMain = await parse({}, { ...github(), GITHUB_EVENT_PATH: undefined })
    expect(onMain.tags).toEqual(['main', 'sha-4b825dc'])
  })
})

test('a local replace directive is noticed, a versioned one is not', async () => {
  expect((await parse({})).hasLocalReplace).toBe(false)
  await mkdir(join(repo, 'replaced'), { recursive: true })
  await writeFile(
    join(repo, 'replaced', 'go.mod'),
    'module example.com/replaced\n\ngo 1.23\n\nreplace (\n\texample.com/x => example.com/y v1.0.0\n\texample.com/lib => ./lib\n)\n'
  )
  expect((await parse({ source: 'replaced' })).hasLocalReplace).toBe(true)
})

test('a commented-out local replace is not a local replace', async () => {
  await mkdir(join(repo, 'commented'), { recursive: true })
  await writeFile(
    join(repo, 'commented', 'go.mod'),
    'module example.com/commented\n\ngo 1.23\n\n// replace example.com/x => ../x\n\nreplace (\n\t// example.com/lib => ./lib\n\texample.com/y => example.com/z v1.0.0\n)\n'
  )
  expect((await parse({ source: 'commented' })).hasLocalReplace).toBe(false)
})

describe('names', () => {
  test('binary name skips a major-version suffix', () => {
    expect(defaultBinaryName('github.com/acme/hello/v2')).toBe('hello')
    expect(defaultBinaryName('example.com/tool')).toBe('tool')
    expect(defaultBinaryName('hello')).toBe('hello')
  })
  test('state scope names the stages a job runs', async () => {
    expect(stateScopeForStages(await parse({}))).toBe('all')
    expect(stateScopeForStages(await parse({ stage: 'lint,build' }))).toBe('build+lint')
    expect(stateScopeForStages(await parse({ stage: 'scan' }))).toBe('scan')
  })
})
