// bench/peers/redis.mjs — the mailbox as Redis lists: LPUSH to send, BRPOP to
// long-poll, via the `redis` npm client (v5) over a Unix socket. The harness
// starts its own redis-server (no TCP port, no RDB snapshots) in the run's temp
// dir; with { aof: true } it is the "redis-aof" row (appendonly, fsync every s).
// It answers how thriftbus compares with a mature C server doing the same job.
// Pub/sub (the `fanout` scenario): PUBLISH on the command connection, SUBSCRIBE
// on the second one (a subscriber never BRPOPs). Redis buffers unread pub/sub
// output per client and disconnects a client past client-output-buffer-limit
// (pubsub: 32 MB, or 8 MB for 60 s); the subscriber reports that as an error.
import { execFileSync } from 'node:child_process'

export function available () {
  try { execFileSync('sh', ['-c', 'command -v redis-server'], { stdio: 'ignore' }); return true } catch { return false }
}

export function serverCommand (dir, { aof = false } = {}) {
  const socket = `${dir}/redis.sock`
  const args = ['--port', '0', '--unixsocket', socket, '--unixsocketperm', '700', '--save', '',
    '--dir', dir, '--loglevel', 'warning', '--daemonize', 'no']
  args.push(...(aof ? ['--appendonly', 'yes', '--appendfsync', 'everysec'] : ['--appendonly', 'no']))
  return { socket, cmd: 'redis-server', args }
}

export async function connect (path) {
  const { createClient } = await import('redis')
  const open = async () => {
    const c = createClient({ socket: { path, reconnectStrategy: false } })
    c.on('error', () => {}) // failures surface as rejected commands
    await c.connect()
    return c
  }
  // BRPOP blocks its connection, so receives get their own connection.
  // node-redis pipelines commands issued in the same tick on each connection.
  const [cmd, blocking] = await Promise.all([open(), open()])
  let closing = false
  return {
    send: (box, content) => cmd.lPush(box, content),
    receive: (box) => blocking.brPop(box, 0).then((r) => r.element),
    publish: (topic, content) => cmd.publish(topic, content),
    async subscribe (topic, onMessage, onError) {
      const lost = (e) => { if (!closing) onError(new Error(`redis: subscriber connection lost${e?.message ? ` (${e.message})` : ''}`)) }
      blocking.on('error', lost)
      blocking.on('end', lost)
      await blocking.subscribe(topic, onMessage) // resolves once redis has confirmed the subscription
    },
    close: async () => { // destroy() throws when the connection is already gone
      closing = true
      await Promise.allSettled([cmd, blocking].map(async (c) => c.destroy()))
    }
  }
}
