/**
 * The language-neutral view of a JSON-serialized Celery result, built without parsing the result itself:
 * the top-level members of the stored document are located by a single scan, the small ones (status, dates,
 * ids, children) are parsed, and `result`, `args` and `kwargs` are copied as the JSON text Celery stored.
 * Returns null whenever the document needs the full path (exceptions, kombu typed wrappers, Python's NaN /
 * Infinity, odd input), so the output always parses to exactly toView(...) — a test holds the two paths equal.
 * The copied members are trusted to be the valid JSON Celery (or the gateway) wrote.
 */
import { childIds, READY_STATES, toRfc3339 } from './meta.js'

const QUOTE = 34
const BACKSLASH = 92

function skipWs (s: string, i: number): number {
  let c = s.charCodeAt(i)
  while (c === 32 || c === 10 || c === 13 || c === 9) c = s.charCodeAt(++i)
  return i
}

/** Index just past the string starting at s[i] === '"'. */
function skipString (s: string, i: number): number {
  for (;;) {
    const q = s.indexOf('"', i + 1)
    if (q === -1) return -1
    let back = 0
    for (let j = q - 1; s.charCodeAt(j) === BACKSLASH; j--) back++
    if (back % 2 === 0) return q + 1
    i = q
  }
}

/** Index just past the JSON value starting at s[i]. */
function skipValue (s: string, i: number): number {
  const c = s.charCodeAt(i)
  if (c === QUOTE) return skipString(s, i)
  if (c === 123 || c === 91) { // { [
    let depth = 0
    for (let j = i; j < s.length; j++) {
      const d = s.charCodeAt(j)
      if (d === QUOTE) {
        j = skipString(s, j) - 1
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
  for (let d = c; j < s.length && d !== 44 && d !== 125 && d !== 93 && d !== 32 && d !== 10 && d !== 13 && d !== 9; d = s.charCodeAt(++j));
  return j > i ? j : -1
}

/** key → raw JSON text of each top-level member of an object, or null if the text is not a simple object. */
export function topLevelMembers (s: string): Map<string, string> | null {
  const out = new Map<string, string>()
  let i = skipWs(s, 0)
  if (s.charCodeAt(i) !== 123) return null
  i = skipWs(s, i + 1)
  if (s.charCodeAt(i) === 125) return out
  for (;;) {
    if (s.charCodeAt(i) !== QUOTE) return null
    const keyEnd = skipString(s, i)
    if (keyEnd === -1) return null
    const key = s.slice(i + 1, keyEnd - 1)
    if (key.includes('\\')) return null
    i = skipWs(s, keyEnd)
    if (s.charCodeAt(i) !== 58) return null // :
    const start = skipWs(s, i + 1)
    const end = skipValue(s, start)
    if (end === -1) return null
    out.set(key, s.slice(start, end))
    i = skipWs(s, end)
    const sep = s.charCodeAt(i)
    if (sep === 125) return skipWs(s, i + 1) === s.length ? out : null
    if (sep !== 44) return null
    i = skipWs(s, i + 1)
  }
}

const EXCEPTION_STATES = new Set(['FAILURE', 'RETRY', 'REVOKED'])
const EXTENDED_PARSED = ['name', 'worker', 'retries', 'queue'] as const

function parseOr (raw: string | undefined, fallback: unknown): unknown {
  return raw === undefined ? fallback : JSON.parse(raw)
}

/** The serialized view, or null when the full decode path must be used. */
export function fastJsonView (text: string, taskId: string): { json: string, state: string } | null {
  if (text.includes('"__type__"') || text.includes('NaN') || text.includes('Infinity')) return null
  const m = topLevelMembers(text)
  if (m === null) return null
  const state = parseOr(m.get('status'), undefined)
  if (typeof state !== 'string' || EXCEPTION_STATES.has(state)) return null
  const rawTaskId = parseOr(m.get('task_id'), undefined)
  const traceback = parseOr(m.get('traceback'), null)
  const parts = [
    `{"taskId":${JSON.stringify(typeof rawTaskId === 'string' ? rawTaskId : taskId)}`,
    `"state":${JSON.stringify(state)}`,
    `"ready":${READY_STATES.has(state)}`,
    `"result":${m.get('result') ?? 'null'}`,
    '"error":null',
    `"traceback":${typeof traceback === 'string' ? JSON.stringify(traceback) : 'null'}`,
    `"dateDone":${JSON.stringify(toRfc3339(parseOr(m.get('date_done'), null)))}`,
    `"children":${JSON.stringify(childIds(parseOr(m.get('children'), [])))}`
  ]
  for (const [k, viewKey] of [['parent_id', 'parentId'], ['group_id', 'groupId']] as const) {
    const v = parseOr(m.get(k), undefined)
    if (typeof v === 'string') parts.push(`"${viewKey}":${JSON.stringify(v)}`)
  }
  for (const k of ['name', 'args', 'kwargs', 'worker', 'retries', 'queue'] as const) {
    const raw = m.get(k)
    if (raw === undefined) continue
    parts.push(`"${k}":${(EXTENDED_PARSED as readonly string[]).includes(k) ? JSON.stringify(JSON.parse(raw)) : raw}`)
  }
  return { json: parts.join(',') + '}', state }
}
