// Bundles each entry point with @vercel/ncc into dist/<name>/, the files the runner executes.
//
//   node scripts/build.mjs            all entries
//   node scripts/build.mjs post cli   only these
//
// The bundles are ES modules. @dagger.io/dagger loads the TypeScript compiler at import time, and
// that compiler, written for CommonJS, reads the free variables `__filename` and `__dirname`, which
// an ES module does not have: the bundle would die with "ReferenceError: __filename is not defined".
// Every emitted module therefore starts with a prelude that defines the three CommonJS variables
// from its own `import.meta.url`. They are module-scoped (no globals), and each chunk file gets its
// own, so `__filename` names a file that exists, which the compiler's case-sensitivity probe needs.
//
// Dynamic `import()` in the sources becomes a separate chunk file that loads only when reached:
// that is how main avoids loading the SDK on a dry run, and why post, which never imports the
// SDK, stays small.

import ncc from '@vercel/ncc'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import * as path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

export const ENTRIES = {
  main: 'src/entry/main.ts',
  post: 'src/entry/post.ts',
  cli: 'src/local/command.ts'
}

export const COMMONJS_PRELUDE = [
  "import { createRequire as __preludeCreateRequire } from 'node:module';",
  "import { fileURLToPath as __preludeFileURLToPath } from 'node:url';",
  "import { dirname as __preludeDirname } from 'node:path';",
  'const require = __preludeCreateRequire(import.meta.url);',
  'const __filename = __preludeFileURLToPath(import.meta.url);',
  'const __dirname = __preludeDirname(__filename);',
  ''
].join('\n')

const LICENSES_FILE = 'licenses.txt'

/** The prelude goes first, after a shebang line (which must stay the file's first line). */
function withPrelude(code) {
  const shebang = /^#!.*\n/.exec(code)?.[0] ?? ''
  return shebang + COMMONJS_PRELUDE + code.slice(shebang.length)
}

/**
 * Bundles one entry file into outDir (emptied first). Returns the written file names, relative to outDir.
 * @param {string} entry path of the entry source
 * @param {string} outDir directory that receives index.js, its chunks, assets and licenses.txt
 * @returns {Promise<string[]>}
 */
export async function bundle(entry, outDir) {
  const { code, assets } = await ncc(path.resolve(entry), {
    esm: true,
    // No build cache: CI rebuilds and compares with the committed dist/, so every build starts clean.
    cache: false,
    minify: false,
    sourceMap: false,
    license: LICENSES_FILE,
    target: 'es2022',
    quiet: true
  })
  await rm(outDir, { recursive: true, force: true })
  const files = { 'index.js': { source: code, permissions: 0o644 }, ...assets }
  const written = []
  for (const [name, { source, permissions }] of Object.entries(files)) {
    const file = path.join(outDir, name)
    await mkdir(path.dirname(file), { recursive: true })
    if (name.endsWith('.js')) {
      const code = withPrelude(source.toString())
      // A module with a shebang is a command (the CLI, npm's bin): executable.
      await writeFile(file, code, { mode: code.startsWith('#!') ? 0o755 : permissions })
    } else {
      await writeFile(file, source, { mode: permissions })
    }
    written.push(name)
  }
  return written.sort()
}

async function buildAll(names) {
  const unknown = names.filter(name => !(name in ENTRIES))
  if (unknown.length > 0) {
    throw new Error(`Unknown entries: ${unknown.join(', ')}; known: ${Object.keys(ENTRIES).join(', ')}`)
  }
  // One at a time: each webpack compilation of the SDK takes over a GiB and both cores.
  for (const name of names) {
    const started = Date.now()
    const outDir = path.join(root, 'dist', name)
    const files = await bundle(path.join(root, ENTRIES[name]), outDir)
    const seconds = ((Date.now() - started) / 1000).toFixed(1)
    console.log(`dist/${name}: ${files.length} files in ${seconds} s`)
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const requested = process.argv.slice(2)
  buildAll(requested.length > 0 ? requested : Object.keys(ENTRIES)).catch(error => {
    // webpack's errors carry the bundler's own minified source in their stack: the message is enough.
    console.error(error instanceof Error ? error.message : error)
    process.exitCode = 1
  })
}
