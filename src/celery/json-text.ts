/**
 * JSON kept as text: a client's `result` is stored as the bytes it sent instead of being parsed into objects
 * and serialized again (for a 4 KB result that round trip was most of a store's CPU). A validating scanner
 * proves the text is one JSON value first, so nothing invalid is ever stored; anything it is unsure of
 * (invalid UTF-8, prototype-poisoning keys, escapes that could spell one) goes back to the ordinary parser.
 */
import { isUtf8 } from 'node:buffer'

/**
 * A JSON value held as its (validated) UTF-8 bytes — a view into the request body, not a copy; serializeMeta
 * splices them into the stored document verbatim.
 */
export class RawJson {
  readonly bytes: Buffer
  constructor (bytes: Buffer) {
    this.bytes = bytes
  }

  /** The value itself, for serializers that need it (msgpack). */
  parse (): unknown {
    return JSON.parse(this.bytes.toString('utf8'))
  }
}

/**
 * Deepest nesting of arrays and objects a stored value (result, args, kwargs, exception arguments) may have.
 * Celery reads results with Python's json (recursive: 5,000 levels already exceed its recursion limit) or
 * msgpack; 200 leaves them a wide margin and is far beyond what real task results use.
 */
export const MAX_VALUE_DEPTH = 200

const QUOTE = 34
const BACKSLASH = 92

function table (bytes: Iterable<number>): Uint8Array {
  const t = new Uint8Array(256)
  for (const c of bytes) t[c] = 1
  return t
}
/** Bytes a string may hold as they are: not the quote, the backslash or a control character. */
const PLAIN = new Uint8Array(256).fill(1)
for (let c = 0; c < 0x20; c++) PLAIN[c] = 0
PLAIN[QUOTE] = PLAIN[BACKSLASH] = 0
const WS = table([32, 10, 13, 9])
const HEX = table(Buffer.from('0123456789abcdefABCDEF'))
const ESCAPE = table(Buffer.from('"\\/bfnrt'))

/** Strings the ordinary parser treats as prototype poisoning when they are keys; never fast-pathed. */
const SUSPECT = ['__proto__', 'constructor'].map(w => Buffer.from(w))

/** Whether b[i, i + len) spells one of the SUSPECT words. */
function suspectWord (b: Uint8Array, i: number, len: number): boolean {
  for (const w of SUSPECT) {
    if (w.length !== len) continue
    let k = 0
    while (k < len && b[i + k] === w[k]) k++
    if (k === len) return true
  }
  return false
}

/** Set by scanString when a string the ordinary parser must judge was seen (see scanString). */
let flagged = false

/**
 * Index past the string opening at b[i], or -1 if it is not a valid JSON string (RFC 8259 §7). Strings the
 * fast path leaves to the ordinary parser ("__proto__", "constructor", \u escapes that could spell them) are
 * scanned to their end too, and set `flagged`, so the scan still checks the rest of the document (depth).
 */
function scanString (b: Uint8Array, i: number, n: number): number {
  const first = i + 1
  let j = first
  for (;;) {
    while (j < n && PLAIN[b[j] as number] === 1) j++
    if (j >= n) return -1
    const c = b[j] as number
    if (c === QUOTE) {
      const len = j - first
      if ((len === 9 || len === 11) && suspectWord(b, first, len)) flagged = true
      return j + 1
    }
    if (c !== BACKSLASH || j + 1 >= n) return -1 // a raw control character, or a cut escape
    const e = b[j + 1] as number
    if (e === 117) { // \uXXXX; 0x0050-0x007f could spell a poisoning key
      if (j + 5 >= n || HEX[b[j + 2] as number] === 0 || HEX[b[j + 3] as number] === 0 || HEX[b[j + 4] as number] === 0 || HEX[b[j + 5] as number] === 0) return -1
      const h = b[j + 4] as number
      if (b[j + 2] === 48 && b[j + 3] === 48 && h >= 53 && h <= 55) flagged = true
      j += 6
    } else if (ESCAPE[e] === 1) {
      j += 2
    } else {
      return -1
    }
  }
}

/** Index past the digits from b[i] (none: i itself). */
function digits (b: Uint8Array, i: number, n: number): number {
  let c = 0
  while (i < n && (c = b[i] as number) >= 48 && c <= 57) i++
  return i
}

/** Index past the number starting at b[i], or -1 (RFC 8259 §6: no leading zeros, no NaN/Infinity). */
function scanNumber (b: Uint8Array, i: number, n: number): number {
  if (b[i] === 45) i++ // -
  if (i >= n) return -1
  const c = b[i] as number
  if (c === 48) i++ // 0
  else if (c >= 49 && c <= 57) i = digits(b, i + 1, n)
  else return -1
  if (i < n && b[i] === 46) { // .
    const k = digits(b, i + 1, n)
    if (k === i + 1) return -1
    i = k
  }
  if (i < n && (b[i] === 101 || b[i] === 69)) { // e E
    i++
    if (i < n && (b[i] === 43 || b[i] === 45)) i++
    const k = digits(b, i, n)
    if (k === i) return -1
    i = k
  }
  return i
}

/** Index past the literal (true, false, null) starting at b[i], or -1. */
function scanLiteral (b: Uint8Array, i: number, n: number): number {
  const c = b[i]
  if (c === 116) return i + 3 < n && b[i + 1] === 114 && b[i + 2] === 117 && b[i + 3] === 101 ? i + 4 : -1
  if (c === 110) return i + 3 < n && b[i + 1] === 117 && b[i + 2] === 108 && b[i + 3] === 108 ? i + 4 : -1
  if (c === 102) return i + 4 < n && b[i + 1] === 97 && b[i + 2] === 108 && b[i + 3] === 115 && b[i + 4] === 101 ? i + 5 : -1
  return -1
}

function skipWs (b: Uint8Array, i: number, n: number): number {
  // Compact JSON has no whitespace between tokens: one comparison settles the common case.
  if (i < n && (b[i] as number) > 32) return i
  while (i < n && WS[b[i] as number] === 1) i++
  return i
}

/** Why a scan failed: not JSON, not UTF-8, or nested deeper than allowed. */
export type ScanFailure = 'invalid' | 'utf8' | 'depth'
export type ScanResult = { ok: true, suspect: boolean } | { ok: false, reason: ScanFailure }

const INVALID: ScanResult = { ok: false, reason: 'invalid' }
const DEPTH: ScanResult = { ok: false, reason: 'depth' }
const OK: ScanResult = { ok: true, suspect: false }
const OK_SUSPECT: ScanResult = { ok: true, suspect: true }

/** The open containers (1 = object, 2 = array), reused by every scan (a scan never yields), grown on demand. */
let open = new Uint8Array(64)

/**
 * Whether b[start, end) is exactly one JSON value (surrounding whitespace allowed) in valid UTF-8, no deeper
 * than maxDepth. Sound: it never accepts what JSON.parse would refuse; `suspect` says the ordinary parser
 * must still judge it (see scanString). Iterative, so depth costs no stack, and the depth limit costs no extra
 * pass. `members`, when given, receives every member of the outermost object in the same pass, four numbers
 * each: key start and end (quotes included), value start and end. One function with the token loops inlined
 * by the compiler: a 4 KB document is scanned in a few microseconds (bench/view-micro.ts).
 */
function scanJson (b: Uint8Array, start: number, end: number, maxDepth: number, members: number[] | null, utf8Checked: boolean): ScanResult {
  if (end > b.length) return INVALID
  if (!utf8Checked && !isUtf8(b.subarray(start, end))) return { ok: false, reason: 'utf8' }
  flagged = false
  let st = open // a local: the loop reads it at every token
  const n = end
  let i = start
  let depth = 0
  let keyStart = -1
  let keyEnd = -1
  let valueStart = -1
  for (;;) {
    // expecting a value
    i = skipWs(b, i, n)
    if (i >= n) return INVALID
    if (depth === 1) valueStart = i
    const c = b[i] as number
    if (c === QUOTE) {
      if ((i = scanString(b, i, n)) === -1) return INVALID
    } else if (c === 123 || c === 91) { // { [
      if (depth >= maxDepth) return DEPTH
      i = skipWs(b, i + 1, n)
      if (i >= n) return INVALID
      if (b[i] === c + 2) { // } is { + 2, ] is [ + 2
        i++
      } else {
        if (depth === st.length) {
          const grown = new Uint8Array(depth * 2)
          grown.set(st)
          open = st = grown
        }
        st[depth++] = c === 123 ? 1 : 2
        if (c === 123) {
          if (depth === 1) keyStart = i
          if (b[i] !== QUOTE || (i = scanString(b, i, n)) === -1) return INVALID
          if (depth === 1) keyEnd = i
          i = skipWs(b, i, n)
          if (i >= n || b[i++] !== 58) return INVALID // :
        }
        continue
      }
    } else if (c === 45 || (c >= 48 && c <= 57)) {
      if ((i = scanNumber(b, i, n)) === -1) return INVALID
    } else if ((i = scanLiteral(b, i, n)) === -1) {
      return INVALID
    }
    // after a value: close containers, or a comma and the next member
    for (;;) {
      if (depth === 1 && members !== null && st[0] === 1) members.push(keyStart, keyEnd, valueStart, i)
      i = skipWs(b, i, n)
      if (depth === 0) return i !== n ? INVALID : flagged ? OK_SUSPECT : OK
      if (i >= n) return INVALID
      const kind = st[depth - 1]
      const d = b[i++]
      if (d === (kind === 1 ? 125 : 93)) {
        depth-- // the loop's next turn sees the value this closed
        continue
      }
      if (d !== 44) return INVALID // ,
      if (kind === 1) {
        i = skipWs(b, i, n)
        if (depth === 1) keyStart = i
        if (i >= n || b[i] !== QUOTE || (i = scanString(b, i, n)) === -1) return INVALID
        if (depth === 1) keyEnd = i
        i = skipWs(b, i, n)
        if (i >= n || b[i++] !== 58) return INVALID
      }
      break
    }
  }
}

/**
 * Whether b[start, end) is one JSON value the fast path may keep verbatim (see scanJson); `utf8Checked` when the
 * caller has already proved the bytes valid UTF-8.
 */
export function isJsonText (b: Uint8Array, start: number, end: number, utf8Checked = false): boolean {
  const r = scanJson(b, start, end, Infinity, null, utf8Checked)
  return r.ok && !r.suspect
}

/**
 * The members of the JSON object in b, as key → [start, end) of each value, from one validating pass; null
 * when b is not one valid JSON object, or holds what the ordinary parser must judge (see scanString).
 * A repeated key keeps its last value, as JSON.parse does.
 */
export function jsonMembers (b: Buffer): Map<string, [number, number]> | null {
  const r = scanBody(b, Infinity)
  return r.ok && !r.suspect ? r.members : null
}

/**
 * One validating pass over a request or stored body: the members of the JSON object it holds (key → [start,
 * end) of each value), or why it is refused. A repeated key keeps its last value, as JSON.parse does. Values
 * that are not objects are 'invalid' here: every body and document the gateway reads is an object.
 */
export function scanBody (b: Buffer, maxDepth: number): (ScanResult & { ok: false }) | { ok: true, suspect: boolean, members: Map<string, [number, number]> } {
  const spans: number[] = []
  const r = scanJson(b, 0, b.length, maxDepth, spans, false)
  if (!r.ok) return r
  if (b[skipWs(b, 0, b.length)] !== 123) return INVALID as ScanResult & { ok: false }
  const members = new Map<string, [number, number]>()
  for (let m = 0; m < spans.length; m += 4) {
    const ks = spans[m] as number
    const ke = spans[m + 1] as number
    // A plain loop: for short keys a subarray plus a native includes() costs more than the scan.
    let escaped = false
    for (let k = ks + 1; k < ke - 1 && !escaped; k++) escaped = b[k] === BACKSLASH
    const key = escaped ? JSON.parse(b.toString('utf8', ks, ke)) as string : b.toString('utf8', ks + 1, ke - 1)
    members.set(key, [spans[m + 2] as number, spans[m + 3] as number])
  }
  return { ok: true, suspect: r.suspect, members }
}

/**
 * Offset of the first byte that is not valid UTF-8 (RFC 3629: no overlongs, no surrogates, nothing past
 * U+10FFFF), or -1. Only run once isUtf8 has said no, to name the place in the error.
 */
export function utf8ErrorOffset (b: Uint8Array): number {
  let i = 0
  while (i < b.length) {
    const c = b[i] ?? 0
    if (c < 0x80) { i++; continue }
    // continuation bytes after the lead byte, and the range of the first one (excludes overlongs, surrogates)
    const n = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : 0
    if (n === 0) return i
    const lo = c === 0xe0 ? 0xa0 : c === 0xf0 ? 0x90 : 0x80
    const hi = c === 0xed ? 0x9f : c === 0xf4 ? 0x8f : 0xbf
    for (let k = 1; k <= n; k++) {
      const d = b[i + k]
      if (d === undefined || d < (k === 1 ? lo : 0x80) || d > (k === 1 ? hi : 0xbf)) return i
    }
    i += n + 1
  }
  return -1
}
