import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import t from 'tap'
import { connect } from '../../sdk/index.js'
import { runSdkClient, shutdownAndWait, tempDir } from '../helpers/daemon.js'

function daemonProcesses(socket: string): number[] {
  return execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.includes(' daemon --socket ') && line.includes(socket))
    .map((line) => Number(line.trim().split(/\s+/)[0]))
}

t.test('sixteen processes calling connect() at once end with exactly one daemon, all connected', async (t) => {
  const dir = tempDir(t)
  const socket = join(dir, 'bus.sock')
  const stateDir = join(dir, 'state')
  const n = 16
  const results = await Promise.all(Array.from({ length: n }, () => runSdkClient({ op: 'connect-send', socket, stateDir, to: 'race' })))
  const c = await connect({ socket, spawn: false })
  const status = await c.status()
  t.teardown(() => shutdownAndWait(c))
  t.same(new Set(results.map((r) => r.pid)), new Set([status.pid]), 'every process reached the same daemon')
  t.equal((await c.mailboxStats('race')).depth, n, 'every process sent its message to it')
  // Daemons spawned by the slower processes may still be starting; each must find the winner and exit.
  let daemons = daemonProcesses(socket)
  for (let i = 0; i < 300 && daemons.length > 1; i++) {
    await new Promise((r) => setTimeout(r, 50))
    daemons = daemonProcesses(socket)
  }
  t.same(daemons, [status.pid], 'in the end exactly one daemon process serves the socket: the one that answered')
})
