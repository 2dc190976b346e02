/**
 * The language-neutral view of a JSON-serialized Celery result, built without parsing the result itself:
 * the top-level members of the stored bytes are located by a single scan, the small ones (status, dates,
 * ids, children) are parsed, and `result`, `args` and `kwargs` are sliced out as the text Celery stored — never
 * parsed or re-serialized. Returns null whenever the document needs the full path
 * (exceptions, kombu typed wrappers, Python's NaN / Infinity, odd input), so the output always parses to
 * exactly toView(...): a test holds the two paths equal. What is stored is not trusted: other tools and
 * truncated writes leave invalid JSON, and a client's parser must never receive it. So the whole document must
 * be valid UTF-8 (one native pass), the small members go through JSON.parse, and the copied members through
 * json-text.ts's validating scanner; anything it does not vouch for takes the full path, which decides.
 */
import { isUtf8 } from 'node:buffer'
import { isJsonText } from './json-text.js'
import { childIds, READY_STATES, toRfc3339 } from './meta.js'

const QUOTE = 34
const BACKSLASH = 92

type Span = [number, number]

function skipWs (b: Buffer, i: number): number {
  let c = b[i]
  while (c === 32 || c === 10 || c === 13 || c === 9) c = b[++i]
  return i
}

/**
 * Index just past the string starting at b[i] === '"', or -1. A plain byte loop: for the short strings of a
 * result (keys, names) it beats Buffer#indexOf, whose native call costs more than the scan.
 */
function skipString (b: Buffer, i: number): number {
  const n = b.length
  for (let j = i + 1; j < n; j++) {
    const c = b[j]
    if (c === QUOTE) return j + 1
    if (c === BACKSLASH) j++
  }
  return -1
}

const UNDERSCORE = 95
const TYPE_KEY = Buffer.from('__type__"')

/** Byte classes outside strings; everything else (digits, letters of true/false/null, spaces, , :) is 0. */
const OPEN = 1
const CLOSE = 2
const STRING = 3
const SLOW = 4 // N of NaN, I of Infinity / -Infinity: Python's non-JSON numbers, decoded by the full path
const CLASS = new Uint8Array(256)
CLASS[123] = CLASS[91] = OPEN
CLASS[125] = CLASS[93] = CLOSE
CLASS[QUOTE] = STRING
CLASS[78] = CLASS[73] = SLOW

/** Whether the string opening at b[i] is "__type__", the key of kombu's typed wrappers. */
function isTypeKey (b: Buffer, i: number): boolean {
  return b[i + 1] === UNDERSCORE && b[i + 2] === UNDERSCORE && b.compare(TYPE_KEY, 0, TYPE_KEY.length, i + 1, i + 1 + TYPE_KEY.length) === 0
}

/**
 * Index just past the JSON value starting at b[i], or -1: for malformed input, and for what only the full
 * path decodes (Python's NaN / ±Infinity outside strings, kombu's {"__type__": …} wrappers), found in the
 * same single pass.
 */
function skipValue (b: Buffer, i: number): number {
  const c = b[i]
  if (c === QUOTE) return skipString(b, i)
  const n = b.length
  if (c === 123 || c === 91) { // { [
    let depth = 0
    for (let j = i; j < n; j++) {
      const k = CLASS[b[j] ?? 0]
      if (k === 0) continue
      if (k === STRING) {
        if (isTypeKey(b, j)) return -1
        j = skipString(b, j) - 1
        if (j < 0) return -1
      } else if (k === OPEN) {
        depth++
      } else if (k === CLOSE) {
        if (--depth === 0) return j + 1
      } else {
        return -1
      }
    }
    return -1
  }
  let j = i
  for (let d = c; j < n && d !== 44 && d !== 125 && d !== 93 && d !== 32 && d !== 10 && d !== 13 && d !== 9; d = b[++j]) {
    if (CLASS[d ?? 0] === SLOW) return -1
  }
  return j > i ? j : -1
}

/** key → byte span of each top-level member's value, or null if the bytes are not a simple object. */
export function topLevelMembers (b: Buffer): Map<string, Span> | null {
  const out = new Map<string, Span>()
  let i = skipWs(b, 0)
  if (b[i] !== 123) return null
  i = skipWs(b, i + 1)
  if (b[i] === 125) return out
  for (;;) {
    if (b[i] !== QUOTE) return null
    const keyEnd = skipString(b, i)
    if (keyEnd === -1) return null
    const key = b.toString('latin1', i + 1, keyEnd - 1)
    if (key.includes('\\')) return null
    i = skipWs(b, keyEnd)
    if (b[i] !== 58) return null // :
    const start = skipWs(b, i + 1)
    const end = skipValue(b, start)
    if (end === -1) return null
    out.set(key, [start, end])
    i = skipWs(b, end)
    const sep = b[i]
    if (sep === 125) return skipWs(b, i + 1) === b.length ? out : null
    if (sep !== 44) return null
    i = skipWs(b, i + 1)
  }
}

const EXCEPTION_STATES = new Set(['FAILURE', 'RETRY', 'REVOKED'])
const COPIED = new Set(['args', 'kwargs'])
/** Members copied into the view as text, so validated by the scanner rather than by JSON.parse. */
const COPIED_ALL = ['result', 'args', 'kwargs'] as const

/**
 * The serialized view as a string, or null when the full decode path must be used. The copied members are
 * sliced out of the stored bytes as text (no parse); the small members are serialized here.
 */
export function fastJsonView (b: Buffer, taskId: string): { body: string, state: string } | null {
  const m = topLevelMembers(b)
  if (m === null || !isUtf8(b)) return null
  for (const k of COPIED_ALL) {
    const span = m.get(k)
    if (span !== undefined && !isJsonText(b, span[0], span[1], true)) return null
  }
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
