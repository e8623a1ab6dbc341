import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { ROOT } from '../helpers/daemon.js'

t.test('the committed src/gen matches what idl/thriftbus.thrift generates', {
  skip: existsSync('/usr/bin/thrift') ? false : 'thrift-compiler is not installed: apt-get install thrift-compiler',
}, async (t) => {
  const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    execFile(process.execPath, [join(ROOT, 'scripts', 'gen.mjs'), '--check'], { timeout: 30_000 }, (err, _out, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stderr }))
  })
  t.equal(r.code, 0, r.stderr)
})
