// Stage none: the action sets up the CLI and the cached engine for the job's later steps and runs
// no built-in stage, so its source need not be a Go module.
import { mkdtempSync } from 'node:fs'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { InputError } from '../src/inputs/parse.js'
import { parsePipelineInputs, parseStages, stateScopeForStages } from '../src/inputs/pipeline-config.js'
import { main } from '../src/local/command.js'
import { describePlan } from '../src/pipeline/plan.js'

const repo = mkdtempSync(join(tmpdir(), 'setup-only-'))

beforeAll(async () => {
  // A Dagger module without go.mod, and a Go module beside it.
  await mkdir(join(repo, 'ci'), { recursive: true })
  await writeFile(join(repo, 'ci', 'dagger.json'), JSON.stringify({ name: 'ci', engineVersion: 'v0.21.8' }))
  await mkdir(join(repo, 'svc'), { recursive: true })
  await writeFile(join(repo, 'svc', 'go.mod'), 'module github.com/acme/svc\n\ngo 1.23.4\n')
  await writeFile(join(repo, 'broken.mod'), '')
  await mkdir(join(repo, 'bad'), { recursive: true })
  await writeFile(join(repo, 'bad', 'go.mod'), 'go 1.23\n')
})

afterAll(async () => {
  await rm(repo, { recursive: true, force: true })
})

const parse = (values: Record<string, string>) =>
  parsePipelineInputs(name => values[name] ?? '', { GITHUB_REF: 'refs/heads/main' }, repo)

async function inputError(promise: Promise<unknown>): Promise<InputError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e
  )
  expect(error).toBeInstanceOf(InputError)
  return error as InputError
}

describe('the stage input', () => {
  test('none alone selects no stage', () => {
    expect(parseStages('none', false)).toEqual({ stages: [], allStages: false })
    expect(parseStages(' none\n', true)).toEqual({ stages: [], allStages: false })
  })

  test('none with another stage is refused, naming the input and the value', () => {
    expect(() => parseStages('none,build', false)).toThrow(
      new InputError('stage', 'none,build', 'none runs no stage, so it cannot be listed with others')
    )
    expect(() => parseStages('all\nnone', false)).toThrow(/none runs no stage/)
  })

  test('an unknown name lists none among the choices', () => {
    expect(() => parseStages('setup', false)).toThrow(
      new InputError(
        'stage',
        'setup',
        'expected one or more of build, lint, test, image, scan, publish, all, or none alone'
      )
    )
  })
})

describe('stage none on its source', () => {
  test('a source without go.mod is accepted, with no Go version', async () => {
    const cfg = await parse({ stage: 'none', source: 'ci' })
    expect(cfg).toMatchObject({
      stages: [],
      allStages: false,
      source: join(repo, 'ci'),
      sourceFromRepo: 'ci',
      modulePath: '',
      goVersion: '',
      goVersionFrom: 'none',
      binaryName: '',
      package: '.'
    })
    expect(stateScopeForStages(cfg)).toBe('none')
  })

  test('the same source is still refused when a stage needs the module', async () => {
    const error = await inputError(parse({ stage: 'build', source: 'ci' }))
    expect(error.input).toBe('source')
    expect(error.allowed).toMatch(/expected the directory of a Go module/)
  })

  test('a Go module is read as usual, and go-version is still checked', async () => {
    const cfg = await parse({ stage: 'none', source: 'svc' })
    expect(cfg).toMatchObject({ modulePath: 'github.com/acme/svc', goVersion: '1.23.4', goVersionFrom: 'go.mod' })
    const error = await inputError(parse({ stage: 'none', source: 'ci', 'go-version': '1.x' }))
    expect(error).toMatchObject({ input: 'go-version', value: '1.x' })
  })

  test('a go.mod that is there must parse', async () => {
    const error = await inputError(parse({ stage: 'none', source: 'bad' }))
    expect(error.input).toBe('source')
    expect(error.allowed).toMatch(/module directive/)
  })

  test('a source that is not a directory is refused', async () => {
    for (const source of ['missing', 'broken.mod']) {
      const error = await inputError(parse({ stage: 'none', source }))
      expect(error).toMatchObject({ input: 'source', value: join(repo, source) })
    }
  })

  test('the dry-run plan says the engine is set up and no stage runs', async () => {
    const plan = describePlan(await parse({ stage: 'none', source: 'ci' }))
    expect(plan).toContain('none: the CLI is installed and the engine started, with its cached state, for later steps')
    expect(plan).toContain('source: ci; no built-in stage runs')
    expect(plan).not.toMatch(/golang:|module /)
  })
})

test('the local command refuses stage none, which has no later steps to serve', async () => {
  let err = ''
  const io = { out: (t: string) => (err += t), err: (t: string) => (err += t), cwd: repo }
  const code = await main(['--stage', 'none', '--source', 'ci', '--dry-run'], {}, io)
  expect(code).toBe(2)
  expect(err).toMatch(/--stage none is for the action, which keeps the engine for the job's later steps/)
})
