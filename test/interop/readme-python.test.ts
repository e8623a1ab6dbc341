import { execFile } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { startDaemon, ROOT } from '../helpers/daemon.js'
import { CHILD_TIMEOUT_MS, FULL_IDL, PYTHON, generate, missing } from './interop-helpers.js'

const skip = missing('thrift-compiler', 'python3-thrift')

t.test('the README\'s Python quick start works verbatim against the daemon', { skip }, async (t) => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  const snippet = /```python\n([\s\S]*?)```/.exec(readme)?.[1]
  t.ok(snippet, 'the README has a python block')
  const d = await startDaemon(t)
  // As the README says: generate into a folder, put the snippet there, run it.
  await generate(t, 'py', FULL_IDL, d.dir)
  writeFileSync(join(d.dir, 'quickstart.py'), snippet!)
  const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile(PYTHON, ['-B', 'quickstart.py'], {
      cwd: d.dir,
      timeout: CHILD_TIMEOUT_MS,
      env: { ...process.env, THRIFTBUS_SOCKET: d.socket, PYTHONPATH: '' },
    }, (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr }))
  })
  t.equal(out.code, 0, out.stderr)
  t.equal(out.stdout, 'hi from Python\n')
})
