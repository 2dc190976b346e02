/**
 * Translation between Celery's meta document and the gateway's language-neutral view, both ways.
 * @see celery/backends/base.py (_get_result_meta, prepare_exception, exception_to_python)
 */
import type { CeleryMeta } from './codec.js'
import type { ResultView, StoreRequest } from '../schemas/result.js'

/** celery.states.ALL_STATES: Celery's built-in states. */
export const CELERY_STATES: ReadonlySet<string> = new Set(['PENDING', 'RECEIVED', 'STARTED', 'RETRY', 'SUCCESS', 'FAILURE', 'REVOKED', 'REJECTED', 'IGNORED'])
/** celery.states.READY_STATES */
export const READY_STATES: ReadonlySet<string> = new Set(['SUCCESS', 'FAILURE', 'REVOKED'])
/** States whose `result` holds an encoded exception (celery.states.EXCEPTION_STATES). */
export const EXCEPTION_STATES: ReadonlySet<string> = new Set(['FAILURE', 'RETRY', 'REVOKED'])

const EXTENDED = ['name', 'args', 'kwargs', 'worker', 'retries', 'queue'] as const

interface EncodedException { exc_type: string, exc_message: unknown, exc_module?: string | null }

function isEncodedException (v: unknown): v is EncodedException {
  return typeof v === 'object' && v !== null && typeof (v as { exc_type?: unknown }).exc_type === 'string'
}

/**
 * kombu ≥ 5.3 wraps datetime, date, time, UUID, Decimal and bytes as {"__type__", "__value__"};
 * the view gives their string value. msgpack `bin` values become base64 strings.
 */
export function plainJson (v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')
  if (Array.isArray(v)) return v.map(plainJson)
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>
    if (typeof o.__type__ === 'string' && '__value__' in o && Object.keys(o).length === 2) return o.__value__
    const out: Record<string, unknown> = {}
    for (const [k, val] of Object.entries(o)) out[k] = plainJson(val)
    return out
  }
  return v
}

/** Celery dates are ISO-8601, naive before 5.4 (meaning UTC): RFC 3339 needs an offset. */
export function toRfc3339 (date: unknown): string | null {
  if (typeof date !== 'string' || date === '') return null
  const d = date.replace(' ', 'T')
  return /(Z|[+-]\d\d:?\d\d)$/.test(d) ? d : `${d}Z`
}

/** Children are stored as result tuples: [[id, parent], null] for a task, [[id, parent], [...]] for a group. */
export function childIds (children: unknown): string[] {
  const ids: string[] = []
  const walk = (node: unknown): void => {
    if (!Array.isArray(node)) return
    const [head, nested] = node as [unknown, unknown]
    if (Array.isArray(head) && typeof head[0] === 'string') {
      if (Array.isArray(nested)) nested.forEach(walk)
      else ids.push(head[0])
    } else if (typeof head === 'string') {
      ids.push(head)
    } else {
      node.forEach(walk)
    }
  }
  if (Array.isArray(children)) children.forEach(walk)
  return ids
}

function errorInfo (exc: EncodedException): NonNullable<ResultView['error']> {
  const args = Array.isArray(exc.exc_message) ? exc.exc_message : [exc.exc_message]
  const message = args.length === 1 && typeof args[0] === 'string' ? args[0] : JSON.stringify(plainJson(args))
  return { type: exc.exc_type, message, module: exc.exc_module ?? null, args: args.map(plainJson) }
}

/**
 * @param plain false when the document is known to hold no kombu wrappers or binary values (JSON without
 *   `"__type__"`): values are then passed through without the copying walk.
 */
export function toView (meta: CeleryMeta, taskId: string, plain = true): ResultView {
  const conv = plain ? plainJson : (v: unknown) => v
  const exc = EXCEPTION_STATES.has(meta.status) && isEncodedException(meta.result) ? meta.result : null
  const view: ResultView = {
    taskId: typeof meta.task_id === 'string' ? meta.task_id : taskId,
    state: meta.status,
    ready: READY_STATES.has(meta.status),
    result: exc === null ? conv(meta.result ?? null) : null,
    error: exc === null ? null : errorInfo(exc),
    traceback: typeof meta.traceback === 'string' ? meta.traceback : null,
    dateDone: toRfc3339(meta.date_done),
    children: childIds(meta.children)
  }
  if (typeof meta.parent_id === 'string') view.parentId = meta.parent_id
  if (typeof meta.group_id === 'string') view.groupId = meta.group_id
  for (const k of EXTENDED) {
    if (k in meta) (view as Record<string, unknown>)[k] = conv(meta[k])
  }
  return view
}

/** Python's datetime.isoformat() of an aware UTC datetime, as Celery ≥ 5.4 writes date_done. */
export function celeryNow (now = new Date()): string {
  // toISOString is always YYYY-MM-DDTHH:MM:SS.mmmZ here: microseconds are the milliseconds padded.
  return `${now.toISOString().slice(0, 23)}000+00:00`
}

/** The document Celery would store for this request, keys in Celery's order. */
export function toMeta (taskId: string, req: StoreRequest, now = new Date()): CeleryMeta {
  let result: unknown = req.result ?? null
  if (req.error !== undefined) {
    result = {
      exc_type: req.error.type,
      exc_message: req.error.args ?? (req.error.message === undefined ? [] : [req.error.message]),
      exc_module: req.error.module ?? 'builtins'
    }
  }
  const dateDone = req.dateDone !== undefined
    ? req.dateDone
    : READY_STATES.has(req.state) ? celeryNow(now) : null
  const meta: CeleryMeta = {
    status: req.state,
    result,
    traceback: req.traceback ?? null,
    children: (req.children ?? []).map(id => [[id, null], null]),
    date_done: dateDone
  } as CeleryMeta
  if (req.groupId !== undefined) meta.group_id = req.groupId
  if (req.parentId !== undefined) meta.parent_id = req.parentId
  for (const k of EXTENDED) {
    if (req[k] !== undefined) (meta as unknown as Record<string, unknown>)[k] = req[k]
  }
  meta.task_id = taskId
  return meta
}
