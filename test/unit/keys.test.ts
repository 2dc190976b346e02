import t from 'tap'
import { groupKey, InvalidIdError, isValidId, taskKey } from '../../src/celery/keys.js'
import { TaskIdSchema } from '../../src/schemas/common.js'

t.test('keys are prefix + Celery key prefix + id', async t => {
  t.equal(taskKey('', 'd06bfa71-85ad-4e6b-beba-6a62b483c6c0'), 'celery-task-meta-d06bfa71-85ad-4e6b-beba-6a62b483c6c0')
  t.equal(taskKey('app_', 'x'), 'app_celery-task-meta-x')
  t.equal(groupKey('', 'g'), 'celery-taskset-meta-g')
})

t.test('hostile ids never become keys', async t => {
  const hostile = ['', '*', '..', 'a..b', ' a', 'a b', 'a\nb', 'a\r\nDEL x', 'a/b', '-a', 'x'.repeat(256), 'a*', 'a?', '[a]', 'é', 'a\u0000']
  for (const id of hostile) {
    t.notOk(isValidId(id), JSON.stringify(id))
    t.throws(() => taskKey('', id), InvalidIdError)
  }
  t.ok(isValidId('x'.repeat(255)))
  t.ok(isValidId('tenant:job.42@host+1_a-b'))
})

t.test('the route schema pattern and keys.ts agree', async t => {
  // The schema is pattern + maxLength (the length bound is not in the pattern, which stays RE2-compatible).
  const re = new RegExp(TaskIdSchema.pattern ?? '', 'u')
  const schemaAccepts = (id: string) => re.test(id) && id.length <= (TaskIdSchema.maxLength ?? Infinity)
  for (const id of ['abc', 'a..b', '*', 'x'.repeat(255), 'x'.repeat(256), 'a:b', ' a', 'a.', '.a', 'a.b.c']) {
    t.equal(schemaAccepts(id), isValidId(id), JSON.stringify(id))
  }
})
