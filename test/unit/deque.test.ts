import t, { type Test } from 'tap'
import fc from 'fast-check'
import { Deque } from '../../src/broker/deque.js'

type Op = { op: 'push' | 'unshift'; v: number } | { op: 'shift' } | { op: 'peek' } | { op: 'clear' }

function check(t: Test, d: Deque<number>, model: number[]): void {
  t.equal(d.length, model.length)
  t.same([...d], model)
}

t.test('pushes past the initial capacity come out in FIFO order', async (t) => {
  const d = new Deque<number>()
  const model: number[] = []
  for (let i = 0; i < 100; i++) {
    d.push(i)
    model.push(i)
  }
  t.equal(d.length, 100)
  t.same([...d], model)
  const out: number[] = []
  for (let v = d.shift(); v !== undefined; v = d.shift()) out.push(v)
  t.same(out, model)
  t.equal(d.length, 0)
  t.equal(d.shift(), undefined)
  t.equal(d.peek(), undefined)
})

t.test('unshifts on an empty deque wrap around to the end of the ring and grow in order', async (t) => {
  const d = new Deque<number>()
  const model: number[] = []
  for (let i = 0; i < 40; i++) {
    d.unshift(i)
    model.unshift(i)
    t.equal(d.peek(), i)
  }
  t.same([...d], model)
})

t.test('a ring that has wrapped (head past the middle) keeps its order when it grows', async (t) => {
  const d = new Deque<number>()
  const model: number[] = []
  // move the head forward by 10 in a 16-slot ring
  for (let i = 0; i < 10; i++) d.push(-1)
  for (let i = 0; i < 10; i++) d.shift()
  for (let i = 0; i < 16; i++) {
    d.push(i)
    model.push(i)
  }
  t.same([...d], model, 'full ring, wrapped')
  d.push(16)
  model.push(16)
  d.unshift(-2)
  model.unshift(-2)
  t.same([...d], model, 'after growth')
  t.equal(d.length, 18)
})

t.test('shift clears the slot it takes from (no stale references kept)', async (t) => {
  const d = new Deque<object>()
  const a = { a: 1 }
  d.push(a)
  t.equal(d.shift(), a)
  t.equal(d.length, 0)
  t.same([...d], [])
})

t.test('random push/unshift/shift/peek/clear sequences agree with an array model', async (t) => {
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    { weight: 4, arbitrary: fc.record({ op: fc.constant('push' as const), v: fc.integer() }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('unshift' as const), v: fc.integer() }) },
    { weight: 4, arbitrary: fc.record({ op: fc.constant('shift' as const) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('peek' as const) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('clear' as const) }) },
  )
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 300 }), (ops) => {
      const d = new Deque<number>()
      const model: number[] = []
      for (const o of ops) {
        switch (o.op) {
          case 'push': d.push(o.v); model.push(o.v); break
          case 'unshift': d.unshift(o.v); model.unshift(o.v); break
          case 'shift': if (d.shift() !== model.shift()) return false; break
          case 'peek': if (d.peek() !== model[0]) return false; break
          case 'clear': d.clear(); model.length = 0; break
        }
        if (d.length !== model.length) return false
      }
      const items = [...d]
      return items.length === model.length && items.every((v, i) => v === model[i])
    }),
    { numRuns: 500 },
  )
  t.pass('model agreed')
})

t.test('a long interleaving across several growths keeps every element', async (t) => {
  const d = new Deque<number>()
  const model: number[] = []
  let n = 0
  for (let round = 0; round < 2000; round++) {
    if (round % 3 === 0) { d.unshift(n); model.unshift(n++) }
    else { d.push(n); model.push(n++) }
    if (round % 5 === 0) t.equal(d.shift(), model.shift())
  }
  check(t, d, model)
})
