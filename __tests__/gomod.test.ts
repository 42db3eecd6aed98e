import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { InputError } from '../src/inputs/parse.js'
import { goVersionFromGoMod, parseGoMod, readGoMod } from '../src/inputs/gomod.js'

describe('go.mod parsing', () => {
  let dir: string

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gomod-'))
  })

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  async function versionOf(text: string): Promise<string> {
    await writeFile(join(dir, 'go.mod'), text)
    return goVersionFromGoMod(await readGoMod(dir))
  }

  it('takes a two-part go directive as is', async () => {
    expect(await versionOf('module example.com/tool\n\ngo 1.22\n')).toBe('1.22')
  })

  it('takes a three-part go directive as is', async () => {
    expect(await versionOf('module example.com/tool\n\ngo 1.22.3\n')).toBe('1.22.3')
  })

  it('prefers the toolchain directive over the go directive', async () => {
    const mod = 'module example.com/tool\n\ngo 1.22.3\n\ntoolchain go1.23.4\n'
    await writeFile(join(dir, 'go.mod'), mod)

    expect(await readGoMod(dir)).toEqual({
      path: join(dir, 'go.mod'),
      module: 'example.com/tool',
      go: '1.22.3',
      toolchain: 'go1.23.4',
      localReplaces: []
    })
    expect(await versionOf(mod)).toBe('1.23.4')
  })

  it('ignores `toolchain default` and keeps the go directive', async () => {
    expect(await versionOf('module example.com/tool\ngo 1.21.0\ntoolchain default\n')).toBe('1.21.0')
  })

  it('keeps release candidates and drops a custom toolchain suffix', async () => {
    expect(await versionOf('module m\ngo 1.24rc1\n')).toBe('1.24rc1')
    expect(await versionOf('module m\ngo 1.21\ntoolchain go1.21.5-corp\n')).toBe('1.21.5')
  })

  it('reads a real-world go.mod with comments, quoted module path and blocks', async () => {
    const mod = [
      '// Deprecated: use example.com/tool/v2 instead.',
      'module "example.com/tool" // the quoted form is legal too',
      '',
      'go 1.22 // minimum supported',
      '',
      'godebug (',
      '\tdefault=go1.21',
      '\tpanicnil=1 // go 1.99 here must not be taken for the go directive',
      ')',
      '',
      'godebug asynctimerchan=1',
      '',
      'require (',
      '\tgithub.com/spf13/cobra v1.8.1',
      '\tgolang.org/x/sys v0.26.0 // indirect',
      ')',
      '',
      'require github.com/stretchr/testify v1.9.0',
      '',
      'replace (',
      '\tgithub.com/spf13/cobra => ../cobra',
      '\tgo 1.30 => ./go',
      ')',
      '',
      'exclude golang.org/x/net v0.1.0',
      'retract [v1.0.0, v1.0.5] // broken release',
      'tool golang.org/x/tools/cmd/stringer',
      ''
    ].join('\r\n')
    await writeFile(join(dir, 'go.mod'), mod)

    const parsed = await readGoMod(dir)

    expect(parsed).toMatchObject({ module: 'example.com/tool', go: '1.22' })
    expect(parsed.toolchain).toBeUndefined()
    expect(goVersionFromGoMod(parsed)).toBe('1.22')
  })

  it('parses a one-line block and a comment-only file header', () => {
    const parsed = parseGoMod('// header\nrequire ( example.com/a v1.0.0 )\nmodule example.com/m\ngo 1.23\n', 'go.mod')
    expect(parsed).toMatchObject({ module: 'example.com/m', go: '1.23' })
  })

  it('lists the local directories that replace modules, on a line or in a block', () => {
    const parsed = parseGoMod(
      [
        'module example.com/m',
        'replace example.com/a => ../a',
        'replace example.com/b v1.2.0 => "./b" // a comment after it',
        'replace example.com/c => example.com/c2 v1.0.0',
        'replace (',
        '\texample.com/d => /abs/d',
        '\texample.com/e v0.1.0 => example.com/e v0.2.0',
        ')',
        ''
      ].join('\n'),
      'go.mod'
    )
    expect(parsed.localReplaces).toEqual(['../a', './b', '/abs/d'])
  })

  it('does not take a commented-out replace for a local one', () => {
    const parsed = parseGoMod(
      [
        'module example.com/m',
        '// replace example.com/x => ../x',
        '  //replace example.com/y => ./y',
        'replace (',
        '\t// example.com/z => ./z',
        '\texample.com/v => example.com/v2 v2.0.0 // was => ../v',
        ')',
        'require example.com/w v1.0.0 // not => ./w',
        ''
      ].join('\n'),
      'go.mod'
    )
    expect(parsed.localReplaces).toEqual([])
  })

  it('fails naming source and go.mod when the file is missing', async () => {
    const error = await readGoMod(join(dir, 'nowhere')).catch((e: unknown) => e)

    expect(error).toBeInstanceOf(InputError)
    expect((error as InputError).input).toBe('source')
    expect((error as Error).message).toContain(join(dir, 'nowhere', 'go.mod'))
    expect((error as Error).message).toContain('ENOENT')
  })

  it('fails naming source when go.mod has no module directive', async () => {
    await writeFile(join(dir, 'go.mod'), 'go 1.22\n')
    const error = await readGoMod(dir).catch((e: unknown) => e)

    expect(error).toBeInstanceOf(InputError)
    expect((error as InputError).input).toBe('source')
    expect((error as Error).message).toMatch(/module directive/)
  })

  it('asks for go-version when go.mod names no go version', async () => {
    await writeFile(join(dir, 'go.mod'), 'module example.com/old\n')
    const mod = await readGoMod(dir)

    expect(() => goVersionFromGoMod(mod)).toThrow(InputError)
    expect(() => goVersionFromGoMod(mod)).toThrow(/Input 'go-version'.*go\.mod declares no usable go version/)
  })

  it('reads the example module shipped with the action', async () => {
    const example = fileURLToPath(new URL('../examples/hello', import.meta.url))
    const mod = await readGoMod(example)

    expect(mod.module).toBe('github.com/go-dagger-action/hello')
    expect(goVersionFromGoMod(mod)).toMatch(/^1\.2\d(\.\d+)?$/)
  })
})
