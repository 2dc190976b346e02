import t from 'tap'
import { atTurnEnd } from '../../src/cache/turn-end.js'

t.test('jobs run at the end of the turn, in order, all together; a job queued by a job runs on the next turn', async t => {
  const ran: string[] = []
  atTurnEnd(() => ran.push('a'))
  atTurnEnd(() => {
    ran.push('b')
    atTurnEnd(() => ran.push('later'))
  })
  atTurnEnd(() => ran.push('c'))
  t.same(ran, [], 'nothing runs synchronously')
  await Promise.resolve()
  t.same(ran, [], 'nor as a microtask')
  await new Promise<void>(resolve => setImmediate(resolve))
  t.same(ran, ['a', 'b', 'c'], 'the turn\'s jobs, in the order they were queued')
  await new Promise<void>(resolve => setImmediate(resolve))
  t.same(ran, ['a', 'b', 'c', 'later'])
})
