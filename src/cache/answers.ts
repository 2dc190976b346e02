/**
 * The fetch routes' answers (view, raw, not found) through the answer cache: a hit costs no Redis command and
 * none of the contract's work (scan, view, digest), which was done once, when the entry was filled; a miss
 * reads the key and its TTL (redis/read-batch.ts) and fills. Only plain JSON documents are cached: compressed values, msgpack and
 * anything that fails to decode take the uncached path every time (rare, and correct as before).
 */
import { isCompressed, inflateStored, type Serializer } from '../celery/codec.js'
import { READY_STATES } from '../celery/meta.js'
import type { ResultStore, StoredWithTtl } from '../celery/result-store.js'
import type { ResultViews } from '../celery/view.js'
import { etagOf } from '../routes/v1/conditional.js'
import type { AnswerCache, Ticket } from './answer-cache.js'
import { ttlSecondsAt, type RawAnswer, type ViewAnswer } from './entry.js'

/** One answer, ready to send: body, tag, and what its caching headers are made of. */
export interface Answer { body: Buffer, etag: string, ready: boolean, ttlSeconds: number, contentType: string }

/** What a fetch needs: the cache, the caller's store (its key prefix) and the bytes → view step. */
export interface Fetching { cache: AnswerCache, store: ResultStore, views: ResultViews }

const VIEW_TYPE = 'application/json; charset=utf-8'
const RAW_TYPES: Record<Serializer, string> = { json: 'application/json', msgpack: 'application/msgpack' }

/** The view answer of a document's bytes (fetchable JSON or msgpack; throws DecodeError). */
function viewAnswer (views: ResultViews, doc: Buffer, taskId: string): ViewAnswer {
  const t = views.bytes(doc, taskId)
  return { body: t.body, etag: etagOf(doc, 'view'), state: t.state, ready: t.ready }
}

/** The raw answer of a document's bytes, once they are proved a Celery document (throws DecodeError). */
function rawAnswer (views: ResultViews, doc: Buffer, taskId: string): RawAnswer & { format: Serializer } {
  const { format, state } = views.verify(doc, taskId)
  return { etag: etagOf(doc, 'raw'), ready: READY_STATES.has(state), contentType: RAW_TYPES[format], format }
}

/**
 * The cached answer: undefined when nothing is cached for the key, null when the key is known not to exist.
 * Synchronous: a hit creates no promise. Throws DecodeError when an answer derived from cached bytes fails.
 */
export function cachedAnswer (f: Fetching, taskId: string, kind: 'view' | 'raw'): Answer | null | undefined {
  const now = Date.now()
  const e = f.cache.get(f.store.channel(taskId), now, kind === 'raw')
  if (e === undefined) return undefined
  if (e.missing) return null
  const ttlSeconds = ttlSecondsAt(e.expiresAt, now)
  const { raw } = e
  if (kind === 'view') {
    let v = e.view
    if (v === undefined) {
      // Filled by a raw read: the view is made once, from the stored bytes.
      if (raw === undefined) return undefined
      v = f.cache.keepView(e, viewAnswer(f.views, raw, taskId))
    }
    return { body: v.body, etag: v.etag, ready: v.ready, ttlSeconds, contentType: VIEW_TYPE }
  }
  if (raw === undefined) return undefined // get() hands a raw read no entry without the bytes
  const r = e.rawAnswer ?? f.cache.keepRaw(e, rawAnswer(f.views, raw, taskId))
  return { body: raw, etag: r.etag, ready: r.ready, ttlSeconds, contentType: r.contentType }
}

/** Reads the key and its TTL (batched: redis/read-batch.ts) and answers, filling the cache when the read is still current. */
export async function readAnswer (f: Fetching, taskId: string, kind: 'view' | 'raw'): Promise<Answer | null> {
  const { cache, store } = f
  const ticket = cache.begin(store.channel(taskId))
  const startedAt = Date.now()
  try {
    const found = await store.readStoredWithTtl(taskId)
    if (found === null) {
      cache.fillMissing(ticket)
      return null
    }
    return await answerOf(f, ticket, taskId, kind, found, startedAt)
  } finally {
    cache.release(ticket) // a no-op after a fill
  }
}

async function answerOf ({ cache, views }: Fetching, ticket: Ticket | null, taskId: string, kind: 'view' | 'raw',
  { stored, ttlSeconds, ttlMs }: StoredWithTtl, startedAt: number): Promise<Answer> {
  if (kind === 'view' && isCompressed(stored)) {
    // Served inflated, never cached (the raw route refuses these bytes).
    const t = views.bytes(await inflateStored(stored, views.maxInflatedBytes), taskId)
    return { body: t.body, etag: etagOf(stored, 'view'), ready: t.ready, ttlSeconds, contentType: VIEW_TYPE }
  }
  if (kind === 'view') {
    // Only the view is kept (JSON documents only: msgpack is not cached).
    const view = viewAnswer(views, stored, taskId)
    if (stored[0] === 0x7b) cache.fillView(ticket, view, ttlMs, startedAt)
    return { body: view.body, etag: view.etag, ready: view.ready, ttlSeconds, contentType: VIEW_TYPE }
  }
  const { format, ...raw } = rawAnswer(views, stored, taskId)
  const e = format === 'json' ? cache.fillFound(ticket, stored, ttlMs, startedAt) : null
  if (e !== null) cache.keepRaw(e, raw)
  return { body: stored, etag: raw.etag, ready: raw.ready, ttlSeconds, contentType: raw.contentType }
}
