/**
 * The language-neutral view of a JSON-serialized Celery result, built without parsing the result itself:
 * one validating pass (json-text.ts's jsonMembers) proves the stored bytes valid JSON and valid UTF-8 and
 * locates the top-level members; the small ones (status, dates, ids, children) are parsed, and `result`,
 * `args` and `kwargs` are sliced out as the text Celery stored, never parsed or re-serialized. Stored bytes
 * are not trusted: other tools and truncated writes leave invalid JSON, which a client's parser must never
 * receive (#16). Returns null whenever the document needs the full path (exceptions, kombu typed wrappers,
 * Python's NaN / Infinity, invalid or odd input), which decodes or refuses it, so the output always parses to
 * exactly toView(...): a test holds the two paths equal.
 */
import { jsonMembers } from './json-text.js'
import { childIds, EXCEPTION_STATES, READY_STATES, toRfc3339 } from './meta.js'

type Span = [number, number]

/** The key of kombu's typed wrappers ({"__type__": "datetime", …}), which only the full path decodes. */
const TYPE_KEY = Buffer.from('"__type__"')

const COPIED = new Set(['args', 'kwargs'])

/**
 * The serialized view as a string, or null when the full decode path must be used. The copied members are
 * sliced out of the stored bytes as text (no parse); the small members are serialized here.
 */
export function fastJsonView (b: Buffer, taskId: string): { body: string, state: string } | null {
  // One JS pass validates and locates; the typed-wrapper search is native (memmem). A string that merely
  // contains "__type__" in quotes sends the document down the full path too, which is only slower.
  const m = jsonMembers(b)
  if (m === null || b.includes(TYPE_KEY)) return null
  try {
    return buildView(b, m, taskId)
  } catch {
    return null // a small member that is not valid JSON: the full path names the problem
  }
}

function buildView (b: Buffer, m: Map<string, Span>, taskId: string): { body: string, state: string } | null {
  const text = (span: Span | undefined): string => span === undefined ? 'null' : b.toString('utf8', span[0], span[1])
  const parse = (key: string, fallback: unknown): unknown => {
    const span = m.get(key)
    return span === undefined ? fallback : JSON.parse(text(span))
  }
  const state = parse('status', undefined)
  if (typeof state !== 'string' || EXCEPTION_STATES.has(state)) return null
  const rawTaskId = parse('task_id', undefined)
  const traceback = parse('traceback', null)
  let body = `{"taskId":${JSON.stringify(typeof rawTaskId === 'string' ? rawTaskId : taskId)},"state":${JSON.stringify(state)},"ready":${READY_STATES.has(state)}` +
    `,"result":${text(m.get('result'))},"error":null,"traceback":${typeof traceback === 'string' ? JSON.stringify(traceback) : 'null'}` +
    `,"dateDone":${JSON.stringify(toRfc3339(parse('date_done', null)))}` +
    `,"children":${JSON.stringify(childIds(parse('children', [])))}`
  for (const [k, viewKey] of [['parent_id', 'parentId'], ['group_id', 'groupId']] as const) {
    const v = parse(k, undefined)
    if (typeof v === 'string') body += `,"${viewKey}":${JSON.stringify(v)}`
  }
  for (const k of ['name', 'args', 'kwargs', 'worker', 'retries', 'queue'] as const) {
    const span = m.get(k)
    if (span === undefined) continue
    body += `,"${k}":${COPIED.has(k) ? text(span) : JSON.stringify(parse(k, null))}`
  }
  return { body: `${body}}`, state }
}
