import t from 'tap'
import { decodeMeta } from '../../src/celery/codec.js'
import { fastJsonView, fastJsonViewBytes } from '../../src/celery/fast-view.js'
import { jsonMembers } from '../../src/celery/json-text.js'
import { toView } from '../../src/celery/meta.js'
import { capture } from '../helpers/fixtures.js'

const slow = (text: string, id: string) => {
  const { meta, plain } = decodeMeta(Buffer.from(text))
  return toView(meta, id, plain)
}

/** Python's json.dumps spacing, as Celery stores documents. */
const pyJson = (v: unknown) => JSON.stringify(v, null, 1).replace(/\n\s*/g, ' ').replace(/\[ /g, '[').replace(/ \]/g, ']').replace(/\{ /g, '{').replace(/ \}/g, '}')

t.test('same view as the full decode, for every captured JSON document', async t => {
  let n = 0
  for (const name of ['success-json', 'extended', 'progress', 'started', 'chord', 'group-saved', 'retry-final', 'expires-60', 'expires-none']) {
    for (const k of capture(name).keys.filter(k => k.key.startsWith('celery-task-meta-'))) {
      const text = Buffer.from(k.value_b64, 'base64').toString('utf8')
      const fast = fastJsonView(Buffer.from(text), 'id')
      t.ok(fast, `${name}: fast path taken`)
      t.same(JSON.parse(fast?.body ?? 'null'), slow(text, 'id'), name)
      t.same(fastJsonViewBytes(Buffer.from(text), 'id')?.body, Buffer.from(fast?.body ?? ''), `${name}: the bytes are the text's`)
      n++
    }
  }
  t.ok(n >= 10)
})

t.test('same view for generated documents with awkward strings and nesting', async t => {
  let seed = 7
  const rnd = () => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed / 2 ** 31 }
  const str = () => ['', 'plain', 'quote " inside', 'back\\slash\\', 'brace { [ ] }', 'unicode ünïcødé ✓', 'tab\tnew\nline', '\\"', 'comma, colon: '][Math.floor(rnd() * 9)] ?? ''
  const value = (depth: number): unknown => {
    const r = rnd()
    if (depth > 3 || r < 0.3) return [1, -2.5, 1e21, true, false, null, str()][Math.floor(rnd() * 7)]
    if (r < 0.65) return Array.from({ length: Math.floor(rnd() * 4) }, () => value(depth + 1))
    return Object.fromEntries(Array.from({ length: Math.floor(rnd() * 4) }, (_, i) => [`${str()}${i}`, value(depth + 1)]))
  }
  for (let i = 0; i < 300; i++) {
    const doc: Record<string, unknown> = { status: ['SUCCESS', 'PENDING', 'STARTED', 'PROGRESS'][i % 4], result: value(0), traceback: i % 5 === 0 ? str() : null, children: i % 3 === 0 ? [[['c1', null], null]] : [], date_done: i % 2 === 0 ? '2026-11-24T22:35:40.781582' : null }
    if (i % 7 === 0) Object.assign(doc, { name: 'tasks.x', args: [value(1)], kwargs: { k: value(1) }, worker: 'w@h', retries: 2, queue: 'q' })
    if (i % 11 === 0) doc.group_id = 'g-1'
    doc.task_id = `t-${i}`
    for (const text of [JSON.stringify(doc), pyJson(doc)]) {
      const fast = fastJsonView(Buffer.from(text), 'fallback')
      t.ok(fast, `doc ${i}`)
      t.same(JSON.parse(fast?.body ?? 'null'), slow(text, 'fallback'), `doc ${i}`)
      t.ok(fastJsonViewBytes(Buffer.from(text), 'fallback')?.body.equals(Buffer.from(fast?.body ?? '')), `doc ${i}: the bytes are the text's`)
    }
  }
})

t.test('small members with escapes, numbers and odd types read as the full decode reads them', async t => {
  const members = [
    ['status', ['"SUC\\u0043ESS"', '"PROGRESS"', '"PRO\\/GRESS"']],
    ['task_id', ['"t-\\u00e9"', '"t-1"', '7', 'null', '"t\\"q"']],
    ['traceback', ['"line\\nnext"', '"plain"', '3', 'null', '"\\u2028"']],
    ['date_done', ['"2026-11-24 22:35:40"', '"2026-11-24T22:35:40+01:00"', '"2026\\u002d11-24"', '""', '1', 'null']],
    ['children', ['[]', '[ ]', '[[["c\\u0031", null], null]]', '[["g", [[["c2", null], null]]]]', 'null']],
    ['parent_id', ['"p\\"1"', '"p1"', '1', 'null']],
    ['group_id', ['"g\\u00fc"', '"g1"', 'false']],
    ['name', ['"tasks.\\u00e9"', '"tasks.x"', '1.50', '1e2', '[1, 2]']],
    ['retries', ['1', '1.0', '-0', '2E1']],
    ['queue', ['"q\\/1"', '{"a" : 1}']]
  ] as const
  let n = 0
  for (const [key, values] of members) {
    for (const v of values) {
      const text = `{"status": "SUCCESS", "result": {"a": 1}, "${key}": ${v}}`.replace(/"status": "SUCCESS", "status"/, '"status"')
      const fast = fastJsonView(Buffer.from(text), 'fallback')
      t.ok(fast, `${key}: ${v} keeps the fast path`)
      t.same(JSON.parse(fast?.body ?? 'null'), slow(text, 'fallback'), `${key}: ${v}`)
      t.same(fastJsonViewBytes(Buffer.from(text), 'fallback')?.body, Buffer.from(fast?.body ?? ''), `${key}: ${v} as bytes`)
      n++
    }
  }
  t.ok(n > 40)
})

t.test('falls back to the full path when it must', async t => {
  const cases = {
    failure: '{"status": "FAILURE", "result": {"exc_type": "ValueError", "exc_message": ["bad"], "exc_module": "builtins"}, "traceback": "tb", "children": [], "date_done": null, "task_id": "x"}',
    kombuWrapper: '{"status": "SUCCESS", "result": {"__type__": "datetime", "__value__": "2026-01-01T00:00:00"}, "traceback": null, "children": [], "date_done": null, "task_id": "x"}',
    pythonNaN: '{"status": "SUCCESS", "result": NaN, "traceback": null, "children": [], "date_done": null, "task_id": "x"}',
    nestedNaN: '{"status": "SUCCESS", "result": {"a": [1, {"b": NaN}]}, "traceback": null, "children": [], "date_done": null, "task_id": "x"}',
    minusInfinity: '{"status": "SUCCESS", "result": [-Infinity], "traceback": null, "children": [], "date_done": null, "task_id": "x"}',
    nestedWrapper: '{"status": "SUCCESS", "result": [{"x": {"__type__": "uuid", "__value__": "5e0b7cd2-0000-4000-8000-000000000000"}}], "traceback": null, "children": [], "date_done": null, "task_id": "x"}',
    kwargsNaN: '{"status": "SUCCESS", "result": 1, "traceback": null, "children": [], "date_done": null, "task_id": "x", "kwargs": {"k": Infinity}}',
    truncated: '{"status": "SUCCESS", "result": [1, 2',
    trailing: '{"status": "SUCCESS", "result": 1} extra',
    noStatus: '{"result": 1}',
    escapedKey: '{"stat\\u0075s": "SUCCESS", "result": 1}',
    notObject: '[1, 2]'
  }
  for (const [name, text] of Object.entries(cases)) t.equal(fastJsonView(Buffer.from(text), 'x'), null, name)
  // The markers only count outside strings: text that merely mentions them keeps the fast path.
  const mentions = '{"status": "SUCCESS", "result": {"note": "NaN and Infinity, __type__", "__typed__": "Infinity"}, "traceback": null, "children": [], "date_done": null, "task_id": "x"}'
  t.same(JSON.parse(fastJsonView(Buffer.from(mentions), 'x')?.body ?? 'null'), slow(mentions, 'x'), 'markers inside strings')
  const text = Buffer.from('{ "a" : [1, {"b": "}"}] , "c": "\\"" }')
  t.same([...(jsonMembers(text) ?? new Map()).entries()].map(([k, [a, b]]) => [k, text.toString('utf8', a, b)]), [['a', '[1, {"b": "}"}]'], ['c', '"\\""']])
})
