import t from 'tap'
import fc from 'fast-check'
import { SeqidTable } from '../../sdk/seqid-table.js'

type Op = { op: 'set' | 'delete' | 'get'; key: number }

t.test('a seqid table holds what a Map holds through any sequence of sets and deletes', async (t) => {
  // Keys from a narrow range collide and wrap around the table; negative ones are seqids past 2^31.
  const key = fc.oneof(fc.integer({ min: -40, max: 40 }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }))
  const op = fc.record({ op: fc.constantFrom<Op['op']>('set', 'set', 'delete', 'get'), key })
  fc.assert(fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
    const table = new SeqidTable<{ v: number }>()
    const model = new Map<number, { v: number }>()
    for (const [n, { op, key }] of ops.entries()) {
      if (op === 'set') {
        const v = { v: n }
        table.set(key, v)
        model.set(key, v)
      } else if (op === 'delete') {
        if (table.delete(key) !== model.delete(key)) return false
      } else if (table.get(key) !== model.get(key) || table.has(key) !== model.has(key)) {
        return false
      }
      if (table.size !== model.size) return false
    }
    for (const [k, v] of model) if (table.get(k) !== v) return false
    const all = table.inOrder(0)
    return all.length === model.size && [...model.values()].every((v) => all.includes(v))
  }), { numRuns: 500 })
})

t.test('sequential seqids added and removed in any order, past growth, leave an empty table', async (t) => {
  const table = new SeqidTable<{ v: number }>()
  for (let s = 2 ** 31 - 50; s !== -(2 ** 31) + 50; s = (s + 1) | 0) table.set(s, { v: s })
  t.equal(table.size, 100)
  for (let s = -(2 ** 31) + 49; s !== 2 ** 31 - 51; s = (s - 1) | 0) t.ok(table.delete(s))
  t.equal(table.size, 0)
  t.same(table.inOrder(0), [])
  table.set(7, { v: 7 })
  table.clear()
  t.equal(table.get(7), undefined)
  t.equal(table.size, 0)
})

t.test('inOrder lists the values oldest first, across the wrap past 2^31', async (t) => {
  const table = new SeqidTable<{ v: number }>()
  const seqids = [2 ** 31 - 2, 2 ** 31 - 1, -(2 ** 31), -(2 ** 31) + 1, -(2 ** 31) + 2]
  for (const s of seqids) table.set(s, { v: s })
  table.delete(2 ** 31 - 1)
  t.same(table.inOrder(-(2 ** 31) + 2).map((x) => x.v), [2 ** 31 - 2, -(2 ** 31), -(2 ** 31) + 1, -(2 ** 31) + 2])
})
