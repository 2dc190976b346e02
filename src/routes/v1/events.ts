/**
 * GET /v1/results/{taskId}/events: Server-Sent Events of every state change (PENDING → STARTED → PROGRESS …
 * → SUCCESS/FAILURE/REVOKED) until a ready state, the timeout or shutdown; heartbeats keep proxies from
 * closing the stream. Event ids are a digest of the stored document, so a client reconnecting with
 * Last-Event-ID is not sent the state it already has.
 */
import { createHash } from 'node:crypto'
import type { OutgoingHttpHeaders } from 'node:http'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { serializeError } from '../../logging/serialize-error.js'
import { TaskIdParamsSchema } from '../../schemas/common.js'
import { problems, TICKET_SECURITY, V1_STATUSES } from '../../schemas/problem.js'
import type { ResultView } from '../../schemas/result.js'
import { admitWait, clientGone, decoded } from './shared.js'

const HEARTBEAT_MS = 15_000

/** The stream's own head: no caching, no proxy buffering (nginx), one long-lived connection. */
const STREAM_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no', connection: 'keep-alive' } as const

interface Snapshot { id: string, view: ResultView | null }

/** reply.getHeaders() types every header as possibly undefined; writeHead wants only the set ones. */
function definedHeaders (headers: Record<string, string | number | string[] | undefined>): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {}
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) out[name] = value
  return out
}

const digest = (raw: Buffer | null): string => raw === null ? 'none' : createHash('sha1').update(raw).digest('hex').slice(0, 16)

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const { waiter } = app
  const { wait } = app.settings

  app.get('/results/:taskId/events', {
    config: { scope: 'read', ticket: 'taskId' },
    schema: {
      security: TICKET_SECURITY,
      tags: ['results'],
      operationId: 'streamResultEvents',
      summary: 'Stream state changes as Server-Sent Events',
      description: 'Events: `state` (data: the ResultView, or null while nothing is stored; id: a digest of the ' +
        'stored document) for the current state and every change, then `end` (data: {"reason": "ready" | ' +
        '"timeout" | "interrupted"}). Comment lines every 15 s keep the connection alive. A Last-Event-ID ' +
        'equal to the current state\'s id skips that first event.',
      params: TaskIdParamsSchema,
      querystring: Type.Object({ timeoutSeconds: Type.Optional(Type.Number({ minimum: 0, description: 'Capped at RG_WAIT_MAX_SECONDS' })) }),
      headers: Type.Object({ 'last-event-id': Type.Optional(Type.String({ maxLength: 64 })) }),
      response: {
        200: { description: 'text/event-stream', content: { 'text/event-stream': { schema: { type: 'string' } } } },
        ...problems(400, 422, ...V1_STATUSES)
      }
    }
  }, async (req, reply) => {
    const results = app.storeFor(req)
    const { taskId } = req.params
    const timeoutMs = admitWait(waiter, wait, 1, req.query.timeoutSeconds)
    const { views } = app
    const snapshot = (document: Buffer | null): Snapshot => ({ id: digest(document), view: document === null ? null : views.decode(document, taskId) })
    // Read once before committing to a stream, so an unreadable value is still a problem+json answer.
    const first = await decoded(taskId, async () => snapshot(await results.readDocument(taskId)))
    const gone = clientGone(reply)
    reply.hijack()
    const res = reply.raw
    // A hijacked reply skips Fastify's send, so the head is written from the headers the hooks set on the reply
    // (request id, nosniff, CORS, rate limits), plus the stream's own. Never compressed: no content-encoding.
    res.writeHead(200, { ...definedHeaders(reply.getHeaders()), ...STREAM_HEADERS })
    const write = (chunk: string): void => { if (!res.writableEnded) res.write(chunk) }
    let last = req.headers['last-event-id'] ?? ''
    const emit = (s: Snapshot): boolean => {
      if (s.id !== last) {
        last = s.id
        write(`event: state\nid: ${s.id}\ndata: ${JSON.stringify(s.view)}\n\n`)
      }
      return s.view?.ready === true
    }
    const heartbeat = setInterval(() => write(': heartbeat\n\n'), HEARTBEAT_MS)
    try {
      let outcome: string = 'ready'
      if (!emit(first)) {
        ({ outcome } = await waiter.wait<Snapshot>({
          channel: results.channel(taskId),
          read: async () => snapshot(await results.readDocument(taskId)),
          fromMessage: (payload) => {
            try { return snapshot(payload) } catch { return undefined }
          },
          isReady: emit,
          timeoutMs,
          signal: gone
        }))
      }
      views.observer.waited(outcome === 'ready' ? 'ready' : outcome as 'timeout' | 'cancelled' | 'interrupted', null)
      if (outcome !== 'cancelled') write(`event: end\ndata: ${JSON.stringify({ reason: outcome })}\n\n`)
    } catch (err) {
      req.log.warn({ err: serializeError(err, false) }, 'event stream ended by an error')
      write(`event: end\ndata: ${JSON.stringify({ reason: 'error' })}\n\n`)
    } finally {
      clearInterval(heartbeat)
      res.end()
    }
  })
}

export default routes
