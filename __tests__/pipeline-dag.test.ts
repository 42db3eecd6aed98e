// The DAG of `all`: one session; build, lint and test at once; image after build; scan after image;
// publish only after lint, test and scan passed; a failure skips only what depends on it.
import type { ExecFailure } from './support/engine-session.js'
import { fixture, fixtureConfig, runInSession, type ToolAnswers } from './support/pipeline-session.js'

const publishing = {
  image: 'ghcr.io/acme/failing',
  'registry-username': 'octocat',
  'registry-password': 'ghp_s3cr3t'
}

async function passingTools(): Promise<ToolAnswers> {
  return {
    lint: { exitCode: 0, report: await fixture('golangci-lint-v2-clean.json') },
    test: { exitCode: 0, stream: '', coverFunc: 'total:\t(statements)\t81.3%\n' },
    scanReport: '{"SchemaVersion":2,"Results":[]}'
  }
}

const before = (events: string[], first: string, second: string): boolean => {
  const a = events.indexOf(first)
  const b = events.indexOf(second)
  return a >= 0 && b >= 0 && a < b
}

test('all: every stage in one session, in dependency order, publish last', async () => {
  const cfg = await fixtureConfig(publishing)
  try {
    const logs: string[] = []
    const { session, result, events } = await runInSession(cfg, await passingTools(), undefined, {
      log: m => logs.push(m)
    })
    expect(result.ok).toBe(true)
    expect(result.order).toEqual(['build', 'lint', 'test', 'image', 'scan', 'publish'])
    expect(Object.values(result.stages).map(r => r.status)).toEqual(Array(6).fill('passed'))

    // build, lint and test all start before any stage ends.
    const firstEnd = events.findIndex(e => e.startsWith('end '))
    for (const stage of ['build', 'lint', 'test']) expect(events.indexOf(`start ${stage}`)).toBeLessThan(firstEnd)
    expect(before(events, 'end build', 'start image')).toBe(true)
    expect(before(events, 'end image', 'start scan')).toBe(true)
    for (const stage of ['lint', 'test', 'scan', 'image'])
      expect(before(events, `end ${stage}`, 'start publish')).toBe(true)

    // On the wire too: no push is asked for before the last lint, test and scan answer.
    const firstPush = Math.min(...session.callsTo('publish').map(c => c.query))
    const gate = session.calls.filter(
      c =>
        c.field === 'exitCode' ||
        (c.field === 'contents' && String(c.parentChain.at(-1)?.args.path).startsWith('/scan/'))
    )
    expect(gate.length).toBe(4) // lint exit code, test exit code, two platform scans
    for (const call of gate) expect(call.query).toBeLessThan(firstPush)

    expect(result.stages.test!.result!.coverage).toBe(81.3)
    expect(result.stages.publish!.result!.imageRef).toMatch(/^ghcr\.io\/acme\/failing@sha256:/)
    expect(result.stages.image!.result!.tarball).toBeUndefined()
    expect(logs).toEqual([])
    expect(JSON.stringify(result)).not.toContain('ghp_s3cr3t')
    for (const report of Object.values(result.stages)) expect(report.durationMs).toBeGreaterThanOrEqual(0)
  } finally {
    await cfg.cleanup()
  }
})

test('lint findings: publish is skipped, the other stages still report', async () => {
  const cfg = await fixtureConfig(publishing)
  try {
    const tools = await passingTools()
    tools.lint = { exitCode: 1, report: await fixture('golangci-lint-v2.json') }
    const logs: string[] = []
    const { session, result } = await runInSession(cfg, tools, undefined, { log: m => logs.push(m) })
    expect(result.ok).toBe(false)
    expect(result.stages.lint).toMatchObject({ status: 'failed', failure: { message: 'golangci-lint found 3 issues' } })
    expect(result.stages.publish).toMatchObject({ status: 'skipped', blockedBy: ['lint'] })
    for (const stage of ['build', 'test', 'image', 'scan'] as const) expect(result.stages[stage]!.status).toBe('passed')
    expect(session.callsTo('publish')).toEqual([])
    expect(logs).toEqual(['publish: skipped, because lint did not pass'])
  } finally {
    await cfg.cleanup()
  }
})

test('CVEs and failing tests both block publish', async () => {
  const cfg = await fixtureConfig(publishing)
  try {
    const tools = await passingTools()
    tools.test = {
      exitCode: 1,
      stream: await fixture('go-test-failing.json'),
      coverFunc: await fixture('go-cover-func.txt')
    }
    tools.scanReport = await fixture('trivy-image.json')
    const { session, result } = await runInSession(cfg, tools)
    expect(result.stages.test!.status).toBe('failed')
    expect(result.stages.scan!.status).toBe('failed')
    expect(result.stages.publish).toMatchObject({ status: 'skipped', blockedBy: ['test', 'scan'] })
    expect(session.callsTo('publish')).toEqual([])
  } finally {
    await cfg.cleanup()
  }
})

test('a build that does not compile skips image, scan and publish; lint and test still run', async () => {
  const cfg = await fixtureConfig(publishing)
  const failure: ExecFailure = {
    cmd: ['go', 'build'],
    exitCode: 1,
    stdout: '',
    stderr: 'main.go:9:2: undefined: greet.Helo\n'
  }
  try {
    const { result } = await runInSession(cfg, await passingTools(), session =>
      session.onField(call =>
        call.field === 'withExec' && (call.args.args as string[])[1] === 'build' ? { execError: failure } : undefined
      )
    )
    expect(result.stages.build).toMatchObject({
      status: 'failed',
      failure: { exitCode: 1, outputTail: 'main.go:9:2: undefined: greet.Helo' }
    })
    expect(result.stages.image).toMatchObject({ status: 'skipped', blockedBy: ['build'] })
    expect(result.stages.scan).toMatchObject({ status: 'skipped', blockedBy: ['image'] })
    expect(result.stages.publish).toMatchObject({ status: 'skipped', blockedBy: ['image', 'scan'] })
    expect(result.stages.lint!.status).toBe('passed')
    expect(result.stages.test!.status).toBe('passed')
  } finally {
    await cfg.cleanup()
  }
})

test('all without image never pushes and leaves the image as an OCI tarball', async () => {
  const cfg = await fixtureConfig({})
  try {
    const { session, result } = await runInSession(cfg, await passingTools())
    expect(result.order).toEqual(['build', 'lint', 'test', 'image', 'scan'])
    expect(session.callsTo('publish')).toEqual([])
    expect(session.callsTo('withRegistryAuth')).toEqual([])
    expect(result.stages.image!.result!.tarball).toBe(`${cfg.output}/failing-image.tar`)
    expect(session.exports.map(e => e.typeName).sort()).toEqual(['Container', 'Directory'])
  } finally {
    await cfg.cleanup()
  }
})
