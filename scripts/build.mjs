#!/usr/bin/env node
// Compiles src/ and sdk/ to dist/ (tsc), then makes the CLI executable. Runs on `npm install` (prepare),
// before `npm test`, and before `npm run bench`.
import { execFileSync } from 'node:child_process'
import { chmodSync, existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(import.meta.url)
let tsc
try {
  tsc = require.resolve('typescript/bin/tsc')
} catch {
  // Installed as a dependency of another project (no devDependencies): dist/ ships prebuilt.
  if (existsSync(join(root, 'dist', 'sdk', 'index.js'))) process.exit(0)
  console.error('build: typescript is not installed; run `npm install` in the thriftbus checkout first')
  process.exit(1)
}
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json')], { stdio: 'inherit', cwd: root })
const cli = join(root, 'dist', 'src', 'cli', 'main.js')
if (existsSync(cli)) chmodSync(cli, 0o755)
