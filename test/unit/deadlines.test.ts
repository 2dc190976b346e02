import t from 'tap'
import { withDeadline } from '../../src/redis/deadlines.js'
import { RedisDeadlineError } from '../../src/redis/errors.js'

const never = <T>(): Promise<T> => new Promise<T>(() => {})
const later = <T>(v: T, ms: number): Promise<T> => new Promise<T>(resolve => setTimeout(() => resolve(v), ms))
/** How a promise ended: its value, or the name of what it was rejected with. */
const outcome = async (p: Promise<unknown>): Promise<unknown> => await p.then(v => ({ value: v }), (err: unknown) => ({ error: (err as Error).constructor.name }))

t.test('a call that settles in time ends as it did: value or error, never a deadline', async t => {
  t.same(await outcome(withDeadline(Promise.resolve(7), 50)), { value: 7 })
  t.same(await outcome(withDeadline(Promise.reject(new TypeError('boom')), 50)), { error: 'TypeError' })
  t.same(await outcome(withDeadline(later('late but in time', 5), 200)), { value: 'late but in time' })
})

t.test('every call of a duration still pending at its deadline fails with RedisDeadlineError; those that settled are left alone', async t => {
  const first = withDeadline(never(), 40)
  const settled = withDeadline(later('done', 1), 40)
  const last = withDeadline(never(), 40)
  const [a, b, c] = await Promise.all([outcome(first), outcome(settled), outcome(last)])
  t.same(a, { error: 'RedisDeadlineError' }, 'the oldest pending call')
  t.same(b, { value: 'done' }, 'a call that settled between two pending ones (taken out of the middle of the list)')
  t.same(c, { error: 'RedisDeadlineError' }, 'the newest pending call')
  const err = await withDeadline(never(), 10).catch((e: unknown) => e)
  t.ok(err instanceof RedisDeadlineError, 'the error is the deadline error, carrying its duration')
  t.match((err as Error).message, /10/)
})

t.test('the list survives thousands of calls settling, and a later pending call still fails at its deadline', async t => {
  const many = Array.from({ length: 5000 }, (_, i) => withDeadline(i % 2 === 0 ? Promise.resolve(i) : later(i, 2), 30))
  t.equal((await Promise.all(many)).length, 5000)
  t.same(await outcome(withDeadline(never(), 30)), { error: 'RedisDeadlineError' })
})

t.test('durations keep lanes of their own: a short deadline is not held back by a long one begun before it', async t => {
  const ended: string[] = []
  const long = withDeadline(never(), 400).catch(() => { ended.push('long') })
  const short = withDeadline(never(), 20).catch(() => { ended.push('short') })
  await Promise.all([long, short])
  t.same(ended, ['short', 'long'])
})

t.test('an idle process is not kept up: once every call of a lane has settled, its timer no longer holds the process', async t => {
  // A child node process that only makes a call which settles must exit at once, not after the 60 s deadline.
  const { spawnSync } = await import('node:child_process')
  const { fileURLToPath } = await import('node:url')
  const src = fileURLToPath(new URL('../../src/redis/deadlines.ts', import.meta.url))
  const script = `import { withDeadline } from ${JSON.stringify(src)}; await withDeadline(Promise.resolve(1), 60000); console.log('settled')`
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 })
  t.equal(r.stdout.trim(), 'settled', r.stderr)
  t.equal(r.status, 0, 'it exited on its own (a process still held by the timer is killed at 30 s: status null)')
})
