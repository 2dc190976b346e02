/**
 * The control: the least an HTTP front door on Node can do per fetch — bare Fastify and ioredis (auto-
 * pipelined) passing the stored bytes through, no auth, metrics, headers or checks. Run beside the gateway so
 * the report shows, in the same run, how much of the gap to webdis is Node's HTTP stack itself.
 * /view/:id is the second control: the same bare Fastify doing only the work the fetch view's contract asks
 * of any implementation (README, #16): the key's TTL for Cache-Control, the stored document validated and its
 * view built (the gateway's own fast view, as bytes), an ETag digest of the stored bytes, with the gateway's
 * own batched read of the value and its TTL (src/redis/read-batch.ts). No auth, metrics, hooks,
 * deadlines or error model: what is left between it and the gateway is the gateway's own plumbing.
 * /raw-contract/:id is the same for the raw route: TTL, the stored document proved valid JSON with a string
 * status (one validating pass, the gateway's own scanner), an ETag; the bytes sent as they are.
 * PUT /store/:id is the store route's contract work: the body proved valid UTF-8 and no deeper than Celery
 * reads (one validating scan, the gateway's own) with `result` kept as the client's bytes, the Celery document
 * built, and the atomic SUCCESS-is-final write + PUBLISH (the gateway's own Lua script, batched as the gateway
 * batches it: src/redis/store-batch.ts); no schema, auth,
 * metrics or error model.
 * /v1/results/:id/wait is the third: a bare long-poll, one SUBSCRIBE per waiter on one subscriber connection,
 * answered with the published bytes as they are when its channel's message comes (no view, no checks), and
 * the subscription gauge the wake client polls on /metrics. Run through bench/wake-client.ts like the gateway,
 * it is the floor of a wake-up burst on this machine: Node's HTTP answer and socket close per waiter.
 * Usage: node --import tsx bench/control.ts <http port> <redis port>
 */
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import { fastJsonViewBytes } from '../src/celery/fast-view.js'
import { serializeMeta } from '../src/celery/codec.js'
import { jsonMembers, MAX_VALUE_DEPTH, RawJson, scanBody } from '../src/celery/json-text.js'
import { READY_STATES, toMeta } from '../src/celery/meta.js'
import { ReadBatcher } from '../src/redis/read-batch.js'
import { defineScripts } from '../src/redis/scripts.js'
import { StoreBatcher } from '../src/redis/store-batch.js'
import { cacheControl, etagOf } from '../src/routes/v1/conditional.js'
import type { StoreRequest } from '../src/schemas/result.js'

const [port, redisPort] = process.argv.slice(2).map(Number)
// The gateway's own Redis usage: auto-pipelining, with its batched reads and stores sent as they are issued.
const redis = new Redis(redisPort ?? 6379, '127.0.0.1', { enableAutoPipelining: true, autoPipeliningIgnoredCommands: ['readWithTtl', 'storeResults'] })
defineScripts(redis)
const reads = new ReadBatcher(redis)
const stores = new StoreBatcher(redis)
/** PTTL as TTL says it (whole seconds, rounded; -1: none), for Cache-Control. */
const ttlSeconds = (pttlMs: number): number => pttlMs < 0 ? pttlMs : Math.floor((pttlMs + 500) / 1000)
const app = Fastify()
app.removeContentTypeParser('application/json')
app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => { done(null, body) })
app.put<{ Params: { id: string }, Body: Buffer }>('/store/:id', async (req, reply) => {
  const buf = req.body
  const scan = scanBody(buf, MAX_VALUE_DEPTH + 1)
  const span = scan.ok ? scan.members.get('result') : undefined
  if (span === undefined) return reply.code(400).send()
  const rest = JSON.parse(`${buf.toString('utf8', 0, span[0])}null${buf.toString('utf8', span[1])}`) as StoreRequest
  const payload = serializeMeta(toMeta(req.params.id, { ...rest, result: new RawJson(buf.subarray(span[0], span[1])) }), 'json')
  const [applied, info] = await stores.store({ key: `celery-task-meta-${req.params.id}`, payload, ttlSeconds: rest.ttlSeconds ?? 86400 })
  return reply.type('application/json').send(`{"taskId":${JSON.stringify(req.params.id)},"applied":${String(applied === 1)},"published":${Number(info)}}`)
})
app.get<{ Params: { id: string } }>('/raw/:id', async (req, reply) => {
  const raw = await redis.getBuffer(`celery-task-meta-${req.params.id}`)
  return raw === null ? reply.code(404).send() : reply.type('application/json').send(raw)
})
app.get<{ Params: { id: string } }>('/view/:id', async (req, reply) => {
  const found = await reads.read(`celery-task-meta-${req.params.id}`)
  if ('wrongType' in found || found.value === null) return reply.code(404).send()
  const raw = found.value
  const view = fastJsonViewBytes(raw, req.params.id)
  if (view === null) return reply.code(500).send()
  return reply.header('etag', etagOf(raw, 'view')).header('cache-control', cacheControl(READY_STATES.has(view.state), ttlSeconds(found.pttlMs)))
    .type('application/json; charset=utf-8').send(view.body)
})
app.get<{ Params: { id: string } }>('/raw-contract/:id', async (req, reply) => {
  const found = await reads.read(`celery-task-meta-${req.params.id}`)
  if ('wrongType' in found || found.value === null) return reply.code(404).send()
  const raw = found.value
  const ttl = ttlSeconds(found.pttlMs)
  const status = jsonMembers(raw)?.get('status')
  if (status === undefined || raw[status[0]] !== 0x22) return reply.code(422).send()
  const ready = READY_STATES.has(raw.toString('utf8', status[0] + 1, status[1] - 1))
  return reply.header('etag', etagOf(raw, 'raw')).header('cache-control', cacheControl(ready, ttl))
    .type('application/json').send(raw)
})
const sub = new Redis(redisPort ?? 6379, '127.0.0.1')
const waiting = new Map<string, Array<(body: Buffer) => void>>()
const subscribed = new Set<string>()
sub.on('messageBuffer', (channel: Buffer, message: Buffer) => {
  const name = channel.toString()
  const answers = waiting.get(name)
  if (answers === undefined) return
  waiting.delete(name)
  subscribed.delete(name)
  sub.unsubscribe(name).catch(() => {})
  for (const answer of answers) answer(message)
})
app.get<{ Params: { id: string } }>('/v1/results/:id/wait', (req, reply) => {
  const channel = `celery-task-meta-${req.params.id}`
  const answers = waiting.get(channel) ?? []
  if (answers.length === 0) waiting.set(channel, answers)
  answers.push(body => { reply.type('application/json').send(`{"timedOut":false,"result":${body.toString()}}`) })
  if (answers.length === 1) sub.subscribe(channel).then(() => { if (waiting.has(channel)) subscribed.add(channel) }, () => {})
  return reply
})
app.get('/metrics', async () => `result_gateway_pubsub_subscriptions ${subscribed.size}\n`)
app.get('/healthz', async () => 'ok')
await app.listen({ host: '127.0.0.1', port: port ?? 0 })
process.on('SIGTERM', () => {
  redis.disconnect()
  sub.disconnect()
  app.close().then(() => process.exit(0), () => process.exit(1))
})
