import t from 'tap'
import { BurstLog } from '../../src/logging/burst-log.js'

t.test('BurstLog: the first of a burst, then one line per window with the count folded into it', async t => {
  const b = new BurstLog(1000)
  t.equal(b.take('k', 0), 0)
  t.equal(b.take('k', 10), null)
  t.equal(b.take('k', 20), null)
  t.equal(b.take('other', 20), 0, 'keys are independent')
  t.equal(b.take('k', 1001), 2)
})
