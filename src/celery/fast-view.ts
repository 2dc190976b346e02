/**
 * The language-neutral view of a JSON-serialized Celery result, built without parsing the result itself:
 * the top-level members of the stored bytes are located by a single scan, the small ones (status, dates,
 * ids, children) are parsed, and `result`, `args` and `kwargs` are copied as the bytes Celery stored — no
 * UTF-8 decode or re-encode of the bulk. Returns null whenever the document needs the full path
 * (exceptions, kombu typed wrappers, Python's NaN / Infinity, odd input), so the output always parses to
 * exactly toView(...): a test holds the two paths equal. The copied members are trusted to be the valid
 * JSON Celery (or the gateway) wrote.
 */
import { childIds, READY_STATES, toRfc3339 } from './meta.js'

const QUOTE = 34
const BACKSLASH = 92

type Span = [number, number]

function skipWs (b: Buffer, i: number): number {
  let c = b[i]
  while (c === 32 || c === 10 || c === 13 || c === 9) c = b[++i]
  return i
}

/** Index just past the string starting at b[i] === '"', or -1. */
function skipString (b: Buffer, i: number): number {
  for (;;) {
    const q = b.indexOf(QUOTE, i + 1)
    if (q === -1) return -1
    let back = 0
    for (let j = q - 1; b[j] === BACKSLASH; j--) back++
    if (back % 2 === 0) return q + 1
    i = q
  }
}

/** Index just past the JSON value starting at b[i], or -1. */
function skipValue (b: Buffer, i: number): number {
  const c = b[i]
  if (c === QUOTE) return skipString(b, i)
  if (c === 123 || c === 91) { // { [
    let depth = 0
    for (let j = i; j < b.length; j++) {
      const d = b[j]
      if (d === QUOTE) {
        j = skipString(b, j) - 1
        if (j < 0) return -1
      } else if (d === 123 || d === 91) {
        depth++
      } else if (d === 125 || d === 93) {
        if (--depth === 0) return j + 1
      }
    }
    return -1
  }
  let j = i
  for (let d = c; j < b.length && d !== 44 && d !== 125 && d !== 93 && d !== 32 && d !== 10 && d !== 13 && d !== 9; d = b[++j]);
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

/** The serialized view as bytes, or null when the full decode path must be used. */
export function fastJsonView (b: Buffer, taskId: string): { body: Buffer, state: string } | null {
  if (b.includes('"__type__"') || b.includes('NaN') || b.includes('Infinity')) return null
  const m = topLevelMembers(b)
  if (m === null) return null
  const parse = (key: string, fallback: unknown): unknown => {
    const span = m.get(key)
    return span === undefined ? fallback : JSON.parse(b.toString('utf8', span[0], span[1]))
  }
  const state = parse('status', undefined)
  if (typeof state !== 'string' || EXCEPTION_STATES.has(state)) return null
  const rawTaskId = parse('task_id', undefined)
  const traceback = parse('traceback', null)
  const chunks: Buffer[] = []
  let text = `{"taskId":${JSON.stringify(typeof rawTaskId === 'string' ? rawTaskId : taskId)},"state":${JSON.stringify(state)},"ready":${READY_STATES.has(state)},"result":`
  const copy = (span: Span | undefined, fallback: string): void => {
    if (span === undefined) {
      text += fallback
      return
    }
    chunks.push(Buffer.from(text), b.subarray(span[0], span[1]))
    text = ''
  }
  copy(m.get('result'), 'null')
  text += `,"error":null,"traceback":${typeof traceback === 'string' ? JSON.stringify(traceback) : 'null'}` +
    `,"dateDone":${JSON.stringify(toRfc3339(parse('date_done', null)))}` +
    `,"children":${JSON.stringify(childIds(parse('children', [])))}`
  for (const [k, viewKey] of [['parent_id', 'parentId'], ['group_id', 'groupId']] as const) {
    const v = parse(k, undefined)
    if (typeof v === 'string') text += `,"${viewKey}":${JSON.stringify(v)}`
  }
  for (const k of ['name', 'args', 'kwargs', 'worker', 'retries', 'queue'] as const) {
    const span = m.get(k)
    if (span === undefined) continue
    text += `,"${k}":`
    if (COPIED.has(k)) copy(span, 'null')
    else text += JSON.stringify(parse(k, null))
  }
  chunks.push(Buffer.from(`${text}}`))
  return { body: chunks.length === 1 ? chunks[0] ?? Buffer.alloc(0) : Buffer.concat(chunks), state }
}
