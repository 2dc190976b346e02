import fc from 'fast-check'
import t from 'tap'
import { groupKey, isValidId, taskKey } from '../../src/celery/keys.js'

// Ids an attacker would try: glob and control characters, separators, dots, unicode, very long strings.
const hostile = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is being generated
  fc.stringMatching(/^[\s\S]{0,10}(\*|\?|\[|\]|\.\.|\/|\\|\r\n|\x00|:|@)[\s\S]{0,10}$/),
  fc.constantFrom('*', '..', '../celery-taskset-meta-x', 'a\r\nFLUSHALL', '', ' ', 'x'.repeat(256), '\u0000', 'é', 'a b')
)

t.test('every key built from any string stays inside the namespace', async t => {
  fc.assert(fc.property(hostile, fc.constantFrom('', 'app1_', 'tenant:'), (id, prefix) => {
    if (!isValidId(id)) {
      let threw = false
      try { taskKey(prefix, id) } catch { threw = true }
      return threw
    }
    const key = taskKey(prefix, id)
    return key === `${prefix}celery-task-meta-${id}` &&
      groupKey(prefix, id) === `${prefix}celery-taskset-meta-${id}` &&
      // eslint-disable-next-line no-control-regex -- a valid id must hold no control character
      !/[\s*?[\]\\/\x00-\x1f\x7f]/.test(id) && !id.includes('..') && id.length <= 255
  }), { numRuns: 5000, seed: 42 })
  t.pass('5,000 generated ids: valid ones map 1:1 into the prefix, the rest are refused')
})
