import t from 'tap'
import { Redis } from 'ioredis'
import { buildTestApp } from '../helpers/app.js'
import { startRedis } from '../helpers/redis-server.js'

interface Event { event: string, id?: string, data: unknown }

/** Reads a text/event-stream response to its end and parses the events. */
async function readEvents (res: Response, onEvent?: (e: Event) => Promise<void>): Promise<Event[]> {
  const events: Event[] = []
  const decoder = new TextDecoder()
  let buffer = ''
  const reader = res.body?.getReader()
  if (reader === undefined) throw new Error('no body')
  for (;;) {
    const { value, done } = await reader.read()
    if (done) break
    buffer += decoder.decode(value, { stream: true })
    let sep
    while ((sep = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, sep)
      buffer = buffer.slice(sep + 2)
      if (block.startsWith(':')) continue
      const fields = Object.fromEntries(block.split('\n').map(l => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]))
      const e: Event = { event: fields.event ?? 'message', data: JSON.parse(fields.data ?? 'null') }
      if (fields.id !== undefined) e.id = fields.id
      events.push(e)
      await onEvent?.(e)
    }
  }
  return events
}

t.test('Server-Sent Events stream every state change until ready', async t => {
  const server = await startRedis(t)
  const app = await buildTestApp(t, server.url, { RG_WAIT_POLL_INTERVAL_MS: '600000' })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const redis = new Redis(server.port, '127.0.0.1')
  t.teardown(() => redis.quit())
  const key = (id: string) => `${app.settings.redis.keyPrefix}celery-task-meta-${id}`
  const write = (id: string, status: string, result: unknown) => {
    const doc = JSON.stringify({ status, result, traceback: null, children: [], date_done: status === 'SUCCESS' ? '2026-11-24T22:35:40.781582' : null, task_id: id })
    return redis.pipeline().set(key(id), doc).publish(key(id), doc).exec()
  }

  t.test('PENDING → STARTED → PROGRESS → SUCCESS, then end', async t => {
    const res = await fetch(`${base}/v1/results/sse-1/events?timeoutSeconds=20`)
    t.equal(res.status, 200)
    t.match(res.headers.get('content-type'), /^text\/event-stream/)
    const steps: Array<[string, unknown]> = [['STARTED', { pid: 1 }], ['PROGRESS', { current: 1 }], ['PROGRESS', { current: 2 }], ['SUCCESS', 42]]
    const events = await readEvents(res, async (e) => {
      const next = steps.shift()
      if (e.event === 'state' && next !== undefined) await write('sse-1', next[0], next[1])
    })
    t.same(events.map(e => e.event === 'state' ? (e.data as { state?: string } | null)?.state ?? 'none' : `end:${(e.data as { reason: string }).reason}`),
      ['none', 'STARTED', 'PROGRESS', 'PROGRESS', 'SUCCESS', 'end:ready'])
    t.match(events[3]?.data, { result: { current: 2 } })
    t.ok(events.filter(e => e.event === 'state').every(e => /^[0-9a-f]{16}$|^none$/.test(e.id ?? '')), 'ids are document digests')
    t.same(app.waiter.stats, { waiters: 0, channels: 0 })
  })

  t.test('an already-ready result: one state event and end; Last-Event-ID skips what the client has', async t => {
    await write('sse-2', 'SUCCESS', 'done')
    const events = await readEvents(await fetch(`${base}/v1/results/sse-2/events`))
    t.match(events, [{ event: 'state', data: { state: 'SUCCESS', result: 'done' } }, { event: 'end', data: { reason: 'ready' } }])
    const again = await readEvents(await fetch(`${base}/v1/results/sse-2/events`, { headers: { 'last-event-id': events[0]?.id ?? '' } }))
    t.match(again, [{ event: 'end', data: { reason: 'ready' } }])
  })

  t.test('timeout ends the stream; unreadable values are a problem+json before any streaming', async t => {
    await write('sse-3', 'STARTED', null)
    const events = await readEvents(await fetch(`${base}/v1/results/sse-3/events?timeoutSeconds=0.2`))
    t.match(events, [{ event: 'state', data: { state: 'STARTED' } }, { event: 'end', data: { reason: 'timeout' } }])
    await redis.set(key('sse-pickle'), Buffer.from('8004', 'hex'))
    const bad = await fetch(`${base}/v1/results/sse-pickle/events`)
    t.equal(bad.status, 422)
    t.match(bad.headers.get('content-type'), /^application\/problem\+json/)
  })
})
