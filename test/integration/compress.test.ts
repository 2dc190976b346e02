import { request } from 'node:http'
import { brotliDecompressSync, gunzipSync } from 'node:zlib'
import t from 'tap'
import { Redis } from 'ioredis'
import { buildTestApp } from '../helpers/app.js'
import { startRedis } from '../helpers/redis-server.js'

const doc = (id: string, result: unknown) =>
  JSON.stringify({ status: 'SUCCESS', result, traceback: null, children: [], date_done: '2026-11-24T22:35:40.781582', task_id: id })

t.test('JSON answers above the threshold are compressed when asked; ETags stay usable; streams never', async t => {
  const server = await startRedis(t)
  const app = await buildTestApp(t, server.url, { RG_COMPRESS_THRESHOLD_BYTES: '1024' })
  const redis = new Redis(server.port, '127.0.0.1')
  t.teardown(() => redis.quit())
  const key = (id: string) => `${app.settings.redis.keyPrefix}celery-task-meta-${id}`
  await redis.set(key('big'), doc('big', { rows: Array.from({ length: 80 }, (_, i) => ({ i, name: `row-${i}`, ok: true })) }))
  await redis.set(key('small'), doc('small', 1))
  const ids = Array.from({ length: 200 }, (_, i) => `b-${i}`)
  await redis.mset(...ids.flatMap(id => [key(id), doc(id, { n: id })]))

  t.test('batchGet: br and gzip decode to the same JSON; none without Accept-Encoding', async t => {
    const batch = (enc?: string) => app.inject({ method: 'POST', url: '/v1/results:batchGet', payload: { taskIds: ids }, headers: enc === undefined ? {} : { 'accept-encoding': enc } })
    const plain = await batch()
    t.notOk(plain.headers['content-encoding'])
    const br = await batch('gzip, deflate, br')
    t.equal(br.headers['content-encoding'], 'br')
    t.match(br.headers.vary, /accept-encoding/i)
    t.same(JSON.parse(brotliDecompressSync(br.rawPayload).toString()), plain.json())
    t.ok(br.rawPayload.length * 4 < plain.rawPayload.length, `br is much smaller (${br.rawPayload.length} vs ${plain.rawPayload.length})`)
    const gz = await batch('gzip')
    t.equal(gz.headers['content-encoding'], 'gzip')
    t.same(JSON.parse(gunzipSync(gz.rawPayload).toString()), plain.json())
    t.notOk((await batch('identity')).headers['content-encoding'], 'identity')
  })

  t.test('below the threshold: sent as is', async t => {
    const res = await app.inject({ url: '/v1/results/small', headers: { 'accept-encoding': 'br' } })
    t.equal(res.statusCode, 200)
    t.notOk(res.headers['content-encoding'])
    t.match(res.headers.etag, /^"view-/, 'an uncompressed answer keeps its strong tag')
  })

  t.test('a compressed answer has a weak ETag; either form sent back gets 304', async t => {
    const plain = await app.inject({ url: '/v1/results/big' })
    const strong = String(plain.headers.etag)
    t.match(strong, /^"view-/)
    const gz = await app.inject({ url: '/v1/results/big', headers: { 'accept-encoding': 'gzip' } })
    t.equal(gz.headers['content-encoding'], 'gzip')
    t.equal(gz.headers.etag, `W/${strong}`, 'weak: the same content, not the same bytes (RFC 9110 §8.8.1)')
    for (const tag of [String(gz.headers.etag), strong]) {
      const again = await app.inject({ url: '/v1/results/big', headers: { 'accept-encoding': 'gzip', 'if-none-match': tag } })
      t.equal(again.statusCode, 304, `If-None-Match: ${tag}`)
      t.equal(again.rawPayload.length, 0)
      t.notOk(again.headers['content-encoding'], 'a 304 has no body to encode')
    }
    const raw = await app.inject({ url: '/v1/results/big/raw', headers: { 'accept-encoding': 'br' } })
    t.equal(raw.headers['content-encoding'], 'br', 'the raw document (JSON) too')
    t.match(raw.headers.etag, /^W\/"raw-/)
  })

  t.test('an event stream is never compressed', async t => {
    const base = await app.listen({ host: '127.0.0.1', port: 0 })
    const headers = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const req = request(`${base}/v1/results/big/events?timeoutSeconds=1`, { headers: { 'accept-encoding': 'br, gzip' } }, res => {
        let body = ''
        res.on('data', (c: Buffer) => { body += c.toString() })
        res.on('end', () => resolve({ ...res.headers, body }))
      })
      req.on('error', reject)
      req.end()
    })
    t.match(headers['content-type'], /^text\/event-stream/)
    t.notOk(headers['content-encoding'])
    t.match(headers.body, /^event: state\n/, 'the body is plain text events')
  })
})

t.test('RG_COMPRESS_THRESHOLD_BYTES=0 turns compression off', async t => {
  const server = await startRedis(t)
  const app = await buildTestApp(t, server.url, { RG_COMPRESS_THRESHOLD_BYTES: '0' })
  const res = await app.inject({ method: 'POST', url: '/v1/results:batchGet', payload: { taskIds: Array.from({ length: 100 }, (_, i) => `x-${i}`) }, headers: { 'accept-encoding': 'br, gzip' } })
  t.equal(res.statusCode, 200)
  t.ok(res.rawPayload.length > 4096)
  t.notOk(res.headers['content-encoding'])
})
