import t from 'tap'
import { decodeMeta, detectFormat, encodeMeta, DecodeError } from '../../src/celery/codec.js'
import { celeryNow, childIds, plainJson, toMeta, toRfc3339, toView } from '../../src/celery/meta.js'
import { capture, capturedResult } from '../helpers/fixtures.js'

const view = (name: string) => {
  const { value, taskId } = capturedResult(name)
  return toView(decodeMeta(value).meta, taskId)
}

t.test('captured SUCCESS', async t => {
  const v = view('success-json')
  t.match(v, { state: 'SUCCESS', ready: true, result: 10, error: null, traceback: null, children: [] })
  t.equal(v.dateDone, '2026-11-24T22:35:40.781582Z', 'naive Celery date becomes UTC RFC 3339')
  t.notOk('name' in v, 'no extended fields when Celery did not store them')
})

t.test('captured failures decode Celery\'s exception encoding', async t => {
  const builtin = view('failure-builtin')
  t.same(builtin.error, { type: 'ValueError', message: 'bad', module: 'builtins', args: ['bad'] })
  t.equal(builtin.result, null)
  t.equal(builtin.ready, true)
  t.match(builtin.traceback, /ValueError: bad/)
  const custom = view('failure-custom')
  t.same(custom.error, { type: 'CustomError', message: '["custom failure",42]', module: 'tasks', args: ['custom failure', 42] })
})

t.test('captured extended, progress, started, group member, retry', async t => {
  t.match(view('extended'), { name: 'tasks.add', args: [2, 3], kwargs: {}, worker: 'capture@extended', retries: 0, queue: 'celery' })
  t.match(view('progress'), { state: 'PROGRESS', ready: false, result: { current: 3, total: 10 }, dateDone: null })
  t.match(view('started'), { state: 'STARTED', ready: false, result: { hostname: 'capture@started' } })
  const chord = capture('chord').keys.map(k => decodeMeta(Buffer.from(k.value_b64, 'base64')).meta)
  t.ok(chord.some(m => typeof m.group_id === 'string'), 'chord header results carry group_id')
  t.match(view('retry-final'), { state: 'SUCCESS', result: 'recovered' })
  t.equal(typeof view('retry-final').parentId, 'string')
})

t.test('msgpack capture reads like json', async t => {
  const { value } = capturedResult('msgpack')
  t.equal(detectFormat(value), 'msgpack')
  t.match(view('msgpack'), { state: 'SUCCESS', result: 10, ready: true })
})

t.test('pickle and yaml are detected, never parsed', async t => {
  const { value } = capturedResult('yaml')
  t.equal(detectFormat(value), 'yaml')
  t.throws(() => decodeMeta(value), DecodeError)
  for (const pickle of [Buffer.from('80049512000000000000007d94288c06737461747573', 'hex'), Buffer.from('(dp0\nS\'status\''), Buffer.from('}q\x00(')]) {
    t.equal(detectFormat(pickle), 'pickle', pickle.toString('hex'))
    t.throws(() => decodeMeta(pickle), { name: 'DecodeError', message: 'pickle payload' })
  }
  t.throws(() => decodeMeta(Buffer.from('{"no": "status"}')), { name: 'DecodeError', message: /no "status"/ })
  t.throws(() => decodeMeta(Buffer.from('{truncated')), { message: 'invalid JSON' })
  t.equal(detectFormat(Buffer.alloc(0)), 'unknown')
})

t.test('kombu typed wrappers and msgpack bytes become plain JSON', async t => {
  t.same(plainJson({ when: { __type__: 'datetime', __value__: '2026-01-01T00:00:00+00:00' }, n: [{ __type__: 'decimal', __value__: '1.5' }] }),
    { when: '2026-01-01T00:00:00+00:00', n: ['1.5'] })
  t.same(plainJson({ b: new Uint8Array([1, 2, 3]) }), { b: 'AQID' })
  t.same(plainJson({ __type__: 'x', __value__: 1, extra: true }), { __type__: 'x', __value__: 1, extra: true }, 'only exact wrappers unwrap')
})

t.test('dates', async t => {
  t.equal(toRfc3339('2026-11-24T22:35:40.781582'), '2026-11-24T22:35:40.781582Z')
  t.equal(toRfc3339('2026-11-24T22:35:40.781582+00:00'), '2026-11-24T22:35:40.781582+00:00')
  t.equal(toRfc3339('2026-11-24T22:35:40+02:00'), '2026-11-24T22:35:40+02:00')
  t.equal(toRfc3339(null), null)
  t.equal(celeryNow(new Date('2026-11-24T22:35:40.781Z')), '2026-11-24T22:35:40.781000+00:00')
})

t.test('children: task tuples and nested groups flatten to ids', async t => {
  t.same(childIds([[['a', null], null], [['g', null], [[['b', null], null], [['c', null], null]]]]), ['a', 'b', 'c'])
  t.same(childIds(null), [])
})

t.test('toMeta writes Celery\'s document, keys in Celery\'s order', async t => {
  const meta = toMeta('id-1', { state: 'FAILURE', error: { type: 'ValueError', message: 'bad' }, groupId: 'g1' }, new Date('2026-01-02T03:04:05.006Z'))
  t.same(Object.keys(meta), ['status', 'result', 'traceback', 'children', 'date_done', 'group_id', 'task_id'])
  t.same(meta.result, { exc_type: 'ValueError', exc_message: ['bad'], exc_module: 'builtins' })
  t.equal(meta.date_done, '2026-01-02T03:04:05.006000+00:00')
  const pending = toMeta('id-2', { state: 'PROGRESS', result: { done: 1 }, children: ['c1'], name: 'tasks.x' })
  t.equal(pending.date_done, null, 'non-ready states have no date_done')
  t.same(pending.children, [[['c1', null], null]])
  t.same(Object.keys(pending), ['status', 'result', 'traceback', 'children', 'date_done', 'name', 'task_id'])
  const round = decodeMeta(encodeMeta(pending, 'msgpack'))
  t.equal(round.format, 'msgpack')
  t.same(round.meta, pending)
})
