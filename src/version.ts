/** The package's version, read once from its package.json (found from this file, in src/ or in dist/src/). */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const candidate = join(dir, 'package.json')
    if (existsSync(candidate) && JSON.parse(readFileSync(candidate, 'utf8')).name === 'thriftbus') return dir
    const parent = dirname(dir)
    if (parent === dir) throw new Error('thriftbus: cannot find its own package.json')
    dir = parent
  }
}

/** The folder that holds thriftbus's package.json. */
export const PACKAGE_ROOT = findPackageRoot()
export const VERSION: string = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')).version
