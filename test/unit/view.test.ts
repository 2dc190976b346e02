/**
 * celery/view.ts, bytes → what a client sees: the fast JSON path and the full decode give the same view,
 * every view and decode failure is reported to the observer once, and verify() lets through only documents a
 * parser accepts.
 */
import { gzipSync } from 'node:zlib'
import t from 'tap'
import { encode } from '@msgpack/msgpack'
import { DecodeError } from '../../src/celery/codec.js'
import type { ResultObserver } from '../../src/celery/observer.js'
import { ResultViews } from '../../src/celery/view.js'
import { capturedResult } from '../helpers/fixtures.js'

/** What `fn` threw (undefined when it returned). */
function thrown (fn: () => unknown): unknown {
  try {
    fn()
  } catch (err) {
    return err
  }
  return undefined
}

function recorded (): { views: ResultViews, events: string[] } {
  const events: string[] = []
  const observer: ResultObserver = {
    payload: () => {},
    fetched: (state) => events.push(`fetched ${state}`),
    stored: () => {},
    refused: () => {},
    decodeError: (format) => events.push(`decodeError ${format}`),
    waited: () => {}
  }
  return { views: new ResultViews({ observer, maxInflatedBytes: 1 << 16 }), events }
}

t.test('text() is the serialized decode(), fast path or not, one fetched event each', async t => {
  for (const name of ['success-json', 'progress', 'failure-builtin', 'retry-final', 'extended', 'msgpack']) {
    const { taskId, value } = capturedResult(name)
    const { views, events } = recorded()
    const text = views.text(value, taskId)
    const view = views.decode(value, taskId)
    t.same(JSON.parse(text.body), JSON.parse(JSON.stringify(view)), `${name}: same view`)
    t.equal(text.state, view.state)
    t.equal(text.ready, view.ready)
    t.same(events, [`fetched ${view.state}`, `fetched ${view.state}`], `${name}: one event per view`)
  }
})

t.test('a compressed published payload is inflated under the cap; one past it is a DecodeError', async t => {
  const { views } = recorded()
  const doc = { status: 'SUCCESS', result: 'x', traceback: null, children: [], date_done: null, task_id: 'z' }
  t.equal(views.text(gzipSync(JSON.stringify(doc)), 'z').state, 'SUCCESS')
  const big = { ...doc, result: 'y'.repeat(1 << 17) }
  t.throws(() => views.text(gzipSync(JSON.stringify(big)), 'z'), /inflates to more than 65536 bytes/)
})

t.test('decode errors carry the task id and are counted by format', async t => {
  const { views, events } = recorded()
  const err = t.throws(() => views.text(Buffer.from([0x80, 0x04, 0x95]), 'pickled')) as DecodeError
  t.ok(err instanceof DecodeError)
  t.equal(err.format, 'pickle')
  t.equal(err.taskId, 'pickled')
  const cut = thrown(() => views.decode(Buffer.from('{"status": "SUCCESS", "result": '), 'cut'))
  t.ok(cut instanceof DecodeError)
  t.match(cut, { format: 'json', taskId: 'cut' })
  t.same(events, ['decodeError pickle', 'decodeError json'])
})

t.test('verify() passes valid JSON and msgpack documents through with their state and refuses the rest', async t => {
  const { views, events } = recorded()
  const doc = { status: 'SUCCESS', result: 1, traceback: null, children: [], date_done: null, task_id: 'v' }
  t.same(views.verify(Buffer.from(JSON.stringify(doc)), 'v'), { format: 'json', state: 'SUCCESS' })
  t.same(views.verify(Buffer.from(encode(doc)), 'v'), { format: 'msgpack', state: 'SUCCESS' })
  t.same(events, ['fetched SUCCESS', 'fetched SUCCESS'], 'the state from the scan (JSON) or the full decoder (msgpack), reported once each')
  // One pass (#28): a FAILURE's state comes from the validating scan, not from decoding the exception.
  const failure = { ...doc, status: 'FAILURE', result: { exc_type: 'ValueError', exc_message: ['bad'], exc_module: 'builtins' } }
  events.length = 0
  t.same(views.verify(Buffer.from(JSON.stringify(failure)), 'v'), { format: 'json', state: 'FAILURE' })
  t.same(views.verify(Buffer.from('{"status": "PRO\\"GRESS", "result": null}'), 'v'), { format: 'json', state: 'PRO"GRESS' }, 'an escaped status is unescaped')
  t.same(events, ['fetched FAILURE', 'fetched PRO"GRESS'])
  for (const [what, bytes, format] of [
    ['pickle', Buffer.from([0x80, 0x04, 0x95]), 'pickle'],
    ['yaml', Buffer.from('status: SUCCESS\n'), 'yaml'],
    ['invalid UTF-8', Buffer.from([...Buffer.from('{"status": "SUCCESS", "result": "'), 0xff, ...Buffer.from('"}')]), 'json'],
    ['no status', Buffer.from('{"result": 1}'), 'json'],
    ['compressed', gzipSync(JSON.stringify(doc)), 'unknown']
  ] as const) {
    const err = thrown(() => views.verify(bytes, 'v'))
    t.ok(err instanceof DecodeError, `${what} refused`)
    t.match(err, { format, taskId: 'v' })
  }
})
