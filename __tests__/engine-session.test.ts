import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connection, dag, ExecError, GraphQLRequestError, type Platform } from '@dagger.io/dagger'
import { startEngineSession, type EngineSession } from './support/engine-session.js'

describe('loopback engine session spoken to by the real SDK', () => {
  let session: EngineSession

  beforeEach(async () => {
    session = await startEngineSession()
    session.applyEnv()
  })

  afterEach(async () => {
    await session.close()
  })

  it('connects without spawning a CLI and resolves a nested container chain', async () => {
    const before = process.env._EXPERIMENTAL_DAGGER_CLI_BIN
    delete process.env._EXPERIMENTAL_DAGGER_CLI_BIN
    session.onField(call => (call.field === 'stdout' ? { value: `ran ${call.parentChain.at(-1)?.field}` } : undefined))
    let stdout = ''
    try {
      await connection(async () => {
        stdout = await dag
          .container()
          .from('golang:1.23')
          .withMountedCache('/go/pkg/mod', dag.cacheVolume('go-mod-1.23'))
          .withEnvVariable('CGO_ENABLED', '0')
          .withExec(['go', 'build', './...'])
          .stdout()
      })
    } finally {
      if (before !== undefined) process.env._EXPERIMENTAL_DAGGER_CLI_BIN = before
    }

    expect(stdout).toBe('ran withExec')
    session.assertAllValid()
    expect(session.chains()).toContain(
      'container.from(address: "golang:1.23")' +
        '.withMountedCache(path: "/go/pkg/mod", cache: cacheVolume(key: "go-mod-1.23"))' +
        '.withEnvVariable(name: "CGO_ENABLED", value: "0")' +
        '.withExec(args: ["go", "build", "./..."]).stdout'
    )
    const [mount] = session.callsTo('withMountedCache', 'Container')
    expect(mount.args.cache).toEqual({
      $ref: { type: 'CacheVolume', chain: [{ type: 'Query', field: 'cacheVolume', args: { key: 'go-mod-1.23' } }] }
    })
    expect(session.queries.every(q => q.document !== undefined)).toBe(true)
  })

  it('decodes an object passed as an argument and one reloaded through node(id:)', async () => {
    await connection(async () => {
      const source = dag.directory().withNewFile('main.go', 'package main')
      const synced = await dag.container().from('alpine:3.20').withDirectory('/src', source).sync()
      await synced.withWorkdir('/src').withExec(['ls']).stdout()
    })

    session.assertAllValid()
    const [withDirectory] = session.callsTo('withDirectory')
    expect(session.render((withDirectory.args.source as { $ref: { type: string; chain: [] } }).$ref)).toBe(
      'directory.withNewFile(path: "main.go", contents: "package main")'
    )
    expect(session.queries.some(q => q.text.includes('node'))).toBe(true)
    expect(session.chains()).toContain(
      'container.from(address: "alpine:3.20")' +
        '.withDirectory(path: "/src", source: directory.withNewFile(path: "main.go", contents: "package main"))' +
        '.withWorkdir(path: "/src").withExec(args: ["ls"]).stdout'
    )
  })

  it('rejects and records a query that the engine schema does not allow', async () => {
    const response = await fetch(session.url, {
      method: 'POST',
      headers: {
        authorization: 'Basic ' + Buffer.from(session.token + ':').toString('base64'),
        'content-type': 'application/json'
      },
      body: JSON.stringify({ query: '{ container { from(image: "alpine") { stdout } } }' })
    })
    const body = (await response.json()) as { errors: { message: string }[] }

    expect(response.status).toBe(422)
    expect(body.errors.map(e => e.message).join('\n')).toMatch(/Unknown argument "image"/)
    expect(session.invalid).toHaveLength(1)
    expect(() => session.assertAllValid()).toThrow(/Unknown argument "image"/)
  })

  it('records an ID that no query issued as invalid, as the engine would fail to load it', async () => {
    const response = await fetch(session.url, {
      method: 'POST',
      headers: { authorization: 'Basic ' + Buffer.from(session.token + ':').toString('base64') },
      body: JSON.stringify({ query: '{ container { withDirectory(path: "/src", source: "made-up") { sync } } }' })
    })
    const body = (await response.json()) as { errors: { message: string }[] }

    expect(body.errors[0].message).toMatch(/not an ID issued by this session/)
    expect(session.invalid.map(q => q.errors)).toEqual([[expect.stringMatching(/made-up/)]])
  })

  it('refuses a wrong or missing token with 401 and records it', async () => {
    const wrong = await fetch(session.url, {
      method: 'POST',
      headers: { authorization: 'Basic ' + Buffer.from('not-the-token:').toString('base64') },
      body: JSON.stringify({ query: '{ version }' })
    })
    const missing = await fetch(session.url, { method: 'POST', body: JSON.stringify({ query: '{ version }' }) })

    expect([wrong.status, missing.status]).toEqual([401, 401])
    expect(session.unauthorized).toHaveLength(2)
    expect(() => session.assertAllValid()).toThrow(/request refused/)
    expect(session.calls).toHaveLength(0)
  })

  it('surfaces a failed withExec as the engine EXEC_ERROR that the SDK raises as ExecError', async () => {
    session.onField(call =>
      call.field === 'withExec' && (call.args.args as string[]).includes('test')
        ? { execError: { cmd: call.args.args as string[], exitCode: 1, stdout: '--- FAIL: TestGreet', stderr: 'FAIL' } }
        : undefined
    )
    let caught: unknown
    let idOfFailed = ''
    await connection(async () => {
      const failing = dag.container().from('golang:1.23').withExec(['go', 'test', './...'])
      idOfFailed = await failing.id()
      caught = await failing.stdout().catch((error: unknown) => error)
    })

    expect(caught).toBeInstanceOf(ExecError)
    const error = caught as ExecError
    expect([error.cmd, error.exitCode, error.stdout, error.stderr]).toEqual([
      ['go', 'test', './...'],
      1,
      '--- FAIL: TestGreet',
      'FAIL'
    ])
    expect(error.message).toBe('process "go test ./..." did not complete successfully: exit code: 1')
    expect(session.decodeId(idOfFailed).chain.map(step => step.field)).toEqual(['container', 'from', 'withExec'])
    session.assertAllValid()

    const raw = await fetch(session.url, {
      method: 'POST',
      headers: { authorization: 'Basic ' + Buffer.from(session.token + ':').toString('base64') },
      body: JSON.stringify({ query: session.queries.at(-1)?.text })
    })
    const body = (await raw.json()) as { data: unknown; errors: { path: string[]; extensions: { _type: string } }[] }
    expect(body.data).toBeNull()
    expect(body.errors.map(e => [e.path, e.extensions._type])).toEqual([
      [['container', 'from', 'withExec', 'stdout'], 'EXEC_ERROR']
    ])
  })

  it('fails what is built from a failed object, even when it arrives as an ID', async () => {
    session.onField(call =>
      call.field === 'withExec' && (call.args.args as string[])[0] === 'false'
        ? { execError: { cmd: ['false'], exitCode: 2, stdout: '', stderr: 'boom' } }
        : undefined
    )
    let caught: unknown
    await connection(async () => {
      const produced = dag.container().from('alpine:3.20').withExec(['false']).directory('/out')
      caught = await dag
        .container()
        .from('alpine:3.20')
        .withMountedDirectory('/in', produced)
        .withExec(['ls', '/in'])
        .stdout()
        .catch((error: unknown) => error)
    })

    expect(caught).toBeInstanceOf(ExecError)
    expect((caught as ExecError).exitCode).toBe(2)
  })

  it('records host exports and writes the content an export hook gives', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'engine-session-'))
    try {
      session.onExport(exported =>
        exported.typeName === 'Directory'
          ? { 'checksums.txt': `abc  hello_linux_amd64\n`, hello_linux_amd64: 'ELF' }
          : undefined
      )
      let written = ''
      await connection(async () => {
        written = await dag.directory().withNewFile('hello_linux_amd64', 'ELF').export(join(dir, 'bin'))
        await dag.container().from('alpine:3.20').asTarball().export(join(dir, 'image.tar'))
      })

      expect(written).toBe(join(dir, 'bin'))
      expect(await readFile(join(dir, 'bin', 'checksums.txt'), 'utf8')).toBe('abc  hello_linux_amd64\n')
      expect(session.exports.map(e => [e.typeName, e.path])).toEqual([
        ['Directory', join(dir, 'bin')],
        ['File', join(dir, 'image.tar')]
      ])
      expect(session.render(session.exports[1].chain)).toBe('container.from(address: "alpine:3.20").asTarball')
      session.assertAllValid()
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('lets an async hook hold one answer until a concurrent query arrives', async () => {
    let lintArrived: () => void = () => {}
    const lintSeen = new Promise<void>(resolve => (lintArrived = resolve))
    session.onField(async call => {
      if (call.field !== 'stdout') return undefined
      const command = (call.parentChain.at(-1)?.args.args as string[]).join(' ')
      if (command === 'golangci-lint run') lintArrived()
      if (command === 'go build') await lintSeen
      return { value: command }
    })
    const results: string[] = []
    let platform = ''
    await connection(async () => {
      const go = dag.container({ platform: 'linux/arm64' as Platform }).from('golang:1.23')
      const run = async (args: string[]): Promise<void> => {
        results.push(await go.withExec(args).stdout())
      }
      await Promise.all([run(['go', 'build']), run(['golangci-lint', 'run'])])
      platform = await go.platform()
    })

    expect(results).toEqual(['golangci-lint run', 'go build'])
    const queryRunning = (command: string) => session.queries.find(q => q.text.includes(command))!
    const [build, lint] = [queryRunning('"go","build"'), queryRunning('"golangci-lint","run"')]
    expect(build.answeredAt).toBeGreaterThan(lint.receivedAt)
    expect(platform).toBe('linux/arm64')
    session.assertAllValid()
  })

  it('answers an SDK request with a GraphQL error when the token is wrong', async () => {
    process.env.DAGGER_SESSION_TOKEN = 'wrong'
    const caught = await connection(async () => {
      await dag.version()
    }).catch((error: unknown) => error)

    expect(caught).toBeInstanceOf(GraphQLRequestError)
    expect(session.unauthorized).toHaveLength(1)
  })
})
