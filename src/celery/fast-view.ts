/**
 * The language-neutral view of a JSON-serialized Celery result, built without parsing the result itself:
 * one validating pass (json-text.ts's jsonMembers) proves the stored bytes valid JSON and valid UTF-8 and
 * locates the top-level members; the small ones (status, dates, ids, children) are read, and `result`,
 * `args` and `kwargs` are sliced out as the bytes Celery stored, never parsed or re-serialized. Stored bytes
 * are not trusted: other tools and truncated writes leave invalid JSON, which a client's parser must never
 * receive (#16). Returns null whenever the document needs the full path (exceptions, kombu typed wrappers,
 * Python's NaN / Infinity, invalid or odd input), which decodes or refuses it, so the output always parses to
 * exactly toView(...): a test holds the two paths equal.
 */
import { jsonMembers } from './json-text.js'
import { childIds, EXCEPTION_STATES, READY_STATES, toRfc3339 } from './meta.js'

type Span = [number, number]
/** The view as written: serialized text, and spans of the stored bytes copied as they are. */
type Part = string | Span

/** The key of kombu's typed wrappers ({"__type__": "datetime", …}), which only the full path decodes. */
const TYPE_KEY = Buffer.from('"__type__"')
const QUOTE = 0x22
const BACKSLASH = 0x5c

const COPIED = new Set(['args', 'kwargs'])
/** A member that is not a plain JSON string (a number, null, an object…). */
const NOT_PLAIN = Symbol('not a plain string')

/**
 * A string member without escapes: its text. Its stored bytes are then exactly what JSON.stringify writes for
 * it (the scan refused raw quotes and control characters), so they can be copied as they are.
 */
function plain (b: Buffer, span: Span | undefined): string | undefined | typeof NOT_PLAIN {
  if (span === undefined) return undefined
  const [s, e] = span
  if (b[s] !== QUOTE) return NOT_PLAIN
  for (let k = s + 1; k < e - 1; k++) if (b[k] === BACKSLASH) return NOT_PLAIN
  return b.toString('utf8', s + 1, e - 1)
}

/** The parts of the view, or null when the full decode path must be used. */
function viewParts (b: Buffer, taskId: string): { parts: Part[], state: string } | null {
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

function buildView (b: Buffer, m: Map<string, Span>, taskId: string): { parts: Part[], state: string } | null {
  const text = (span: Span): string => b.toString('utf8', span[0], span[1])
  const parse = (key: string, fallback: unknown): unknown => {
    const span = m.get(key)
    return span === undefined ? fallback : JSON.parse(text(span))
  }
  /** A member as JSON.stringify(JSON.parse(member)) writes it: a plain string's own bytes, else re-serialized. */
  const normalized = (key: string): string => {
    const span = m.get(key)
    if (span === undefined) return 'null'
    return plain(b, span) === NOT_PLAIN ? JSON.stringify(JSON.parse(text(span))) : text(span)
  }
  /** A member that is a JSON string, as JSON.stringify writes it (its own bytes when unescaped); else undefined. */
  const stringText = (key: string): string | undefined => {
    const span = m.get(key)
    const v = plain(b, span)
    if (typeof v === 'string') return text(span as Span)
    const parsed = v === NOT_PLAIN ? parse(key, undefined) : undefined
    return typeof parsed === 'string' ? JSON.stringify(parsed) : undefined
  }
  const s = plain(b, m.get('status'))
  const state = s === NOT_PLAIN ? parse('status', undefined) : s
  if (typeof state !== 'string' || EXCEPTION_STATES.has(state)) return null
  const parts: Part[] = []
  let out = `{"taskId":${stringText('task_id') ?? JSON.stringify(taskId)},"state":${JSON.stringify(state)},"ready":${READY_STATES.has(state)},"result":`
  const result = m.get('result')
  if (result === undefined) {
    out += 'null'
  } else {
    parts.push(out, result)
    out = ''
  }
  out += `,"error":null,"traceback":${stringText('traceback') ?? 'null'}`
  const dd = plain(b, m.get('date_done'))
  out += `,"dateDone":${JSON.stringify(toRfc3339(dd === NOT_PLAIN ? parse('date_done', null) : dd ?? null))}`
  const children = m.get('children')
  out += `,"children":${children === undefined || (children[1] - children[0] === 2 && b[children[0]] === 0x5b) ? '[]' : JSON.stringify(childIds(parse('children', [])))}`
  for (const [k, viewKey] of [['parent_id', 'parentId'], ['group_id', 'groupId']] as const) {
    const v = stringText(k)
    if (v !== undefined) out += `,"${viewKey}":${v}`
  }
  for (const k of ['name', 'args', 'kwargs', 'worker', 'retries', 'queue'] as const) {
    const span = m.get(k)
    if (span === undefined) continue
    if (COPIED.has(k)) {
      parts.push(`${out},"${k}":`, span)
      out = ''
    } else {
      out += `,"${k}":${normalized(k)}`
    }
  }
  parts.push(`${out}}`)
  return { parts, state }
}

/**
 * The serialized view as a string, or null when the full decode path must be used. The copied members are
 * sliced out of the stored bytes as text (no parse); the small members are serialized here.
 */
export function fastJsonView (b: Buffer, taskId: string): { body: string, state: string } | null {
  const v = viewParts(b, taskId)
  if (v === null) return null
  let body = ''
  for (const p of v.parts) body += typeof p === 'string' ? p : b.toString('utf8', p[0], p[1])
  return { body, state: v.state }
}

/**
 * fastJsonView as the bytes to send: the copied members are copied byte for byte from the stored document,
 * never decoded to text and encoded again (for a 4 KB result that round trip cost as much as building the
 * rest of the view).
 */
export function fastJsonViewBytes (b: Buffer, taskId: string): { body: Buffer, state: string } | null {
  const v = viewParts(b, taskId)
  if (v === null) return null
  let size = 0
  for (const p of v.parts) size += typeof p === 'string' ? Buffer.byteLength(p) : p[1] - p[0]
  const body = Buffer.allocUnsafe(size)
  let at = 0
  for (const p of v.parts) at += typeof p === 'string' ? body.write(p, at) : b.copy(body, at, p[0], p[1])
  return { body, state: v.state }
}
