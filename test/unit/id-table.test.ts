import t from 'tap'
import fc from 'fast-check'
import { IdTable } from '../../src/broker/id-table.js'

t.test('ids in the window and ids it left behind are found, replaced and deleted', async (t) => {
  const table = new IdTable<string>(8)
  for (let id = 1; id <= 5; id++) table.set(id, `m${id}`)
  t.equal(table.size, 5)
  // 20 moves the window to 13..20: ids 1..5 move to the Map and stay found.
  table.set(20, 'm20')
  t.equal(table.size, 6)
  for (let id = 1; id <= 5; id++) t.equal(table.get(id), `m${id}`)
  t.equal(table.get(20), 'm20')
  t.equal(table.get(12), undefined, 'an id below the window that was never set')
  t.equal(table.get(21), undefined, 'an id above the window')
  t.equal(table.get(20 + 8), undefined, 'an id on the same slot one lap up is not the one stored')
  table.set(3, 'again')
  t.equal(table.get(3), 'again', 'an old id is replaced in place')
  t.equal(table.size, 6)
  t.ok(table.delete(3))
  t.notOk(table.delete(3), 'a second delete finds nothing')
  t.notOk(table.delete(100), 'an id above the window')
  t.ok(table.delete(20))
  t.equal(table.get(20), undefined)
  t.equal(table.size, 4)
  table.clear()
  t.equal(table.size, 0)
  t.equal(table.get(1), undefined)
  table.set(21, 'after clear')
  t.equal(table.get(21), 'after clear')
})

t.test('a jump of many laps leaves no stale value in the ring', async (t) => {
  const table = new IdTable<number>(4)
  table.set(1, 1)
  table.set(2, 2)
  table.set(1_000_001, 3)
  t.equal(table.get(1), 1)
  t.equal(table.get(2), 2)
  t.equal(table.get(1_000_001), 3)
  t.equal(table.get(1_000_001 - 4), undefined)
  t.equal(table.size, 3)
})

t.test('ids past 2^31 and 2^32 keep their own slots', async (t) => {
  const table = new IdTable<number>(16)
  const ids = [2 ** 31 - 1, 2 ** 31, 2 ** 31 + 1, 2 ** 32 + 3, 2 ** 40 + 5]
  for (const id of ids) table.set(id, id)
  for (const id of ids) t.equal(table.get(id), id)
  t.equal(table.size, ids.length)
})

t.test('the window size must be a power of two', async (t) => {
  t.throws(() => new IdTable(12), /power of two/)
  t.throws(() => new IdTable(0), /power of two/)
})

t.test('behaves as a Map for any sequence of sets, deletes and clears', async () => {
  const op = fc.oneof(
    // Mostly ids near the top, as the store's are; some far back and some far ahead.
    fc.record({ op: fc.constant('set' as const), id: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 10_000 })) }),
    fc.record({ op: fc.constant('delete' as const), id: fc.integer({ min: 1, max: 10_000 }) }),
    fc.record({ op: fc.constant('get' as const), id: fc.integer({ min: 1, max: 10_000 }) }),
    fc.record({ op: fc.constant('clear' as const) }),
  )
  fc.assert(fc.property(fc.array(op, { maxLength: 200 }), fc.constantFrom(1, 2, 8, 64), (ops, slots) => {
    const table = new IdTable<number>(slots)
    const model = new Map<number, number>()
    let n = 0
    for (const o of ops) {
      if (o.op === 'set') {
        table.set(o.id, ++n)
        model.set(o.id, n)
      } else if (o.op === 'delete') {
        if (table.delete(o.id) !== model.delete(o.id)) return false
      } else if (o.op === 'get') {
        if (table.get(o.id) !== model.get(o.id)) return false
      } else {
        table.clear()
        model.clear()
      }
      if (table.size !== model.size) return false
    }
    for (const [id, v] of model) if (table.get(id) !== v) return false
    return true
  }), { numRuns: 500 })
})
