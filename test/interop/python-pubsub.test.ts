import t from 'tap'
import { startDaemon, tempDir } from '../helpers/daemon.js'
import { FULL_IDL, generate, missing, python, result } from './interop-helpers.js'

t.test(
  'a stock Python client uses PubSub through TMultiplexedProtocol(protocol, "PubSub"): wildcards, long-poll, errors',
  { skip: missing('thrift-compiler', 'python3-thrift') },
  async (t) => {
    const gen = await generate(t, 'py', FULL_IDL, tempDir(t))
    const d = await startDaemon(t)

    const out = result(await python(t, 'py_pubsub_client.py', [gen, d.socket]))

    t.equal(out.ids[0] > 0 && out.ids[1] > out.ids[0], true, 'subscribe returns increasing ids')
    t.same(out.counts, [2, 1, 0], 'publish returns how many subscriptions received it')
    t.match(out.one, [{ content: 'linux ok', topic: 'builds.linux', sender: 'ci' }])
    t.equal(out.one.length, 1, '"builds.*" matches one segment only')
    t.same(out.rest.map((m: { topic: string }) => m.topic), ['builds.linux', 'builds.linux.arm'], '"builds.>" matches the rest')
    t.match(out.waited, [{ content: 'late', topic: 'builds.mac' }], 'a waiting poll is woken by a publish on another connection')
    t.same(out.timedOut, [], 'a poll that times out returns an empty list')
    t.equal(out.unsubscribed, true)
    t.match(out.gone, { name: 'NOT_FOUND' })
    t.match(out.bad, { name: 'INVALID_ARGUMENT', message: /">"/ })
    t.same(out.list, [['builds.>', 1]], 'listSubscriptions shows the one left, with the message it has not polled')
  },
)
