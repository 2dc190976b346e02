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

/** Bytes that end the fast run inside a string: the quote, the backslash, control characters. */
const STRING_STOP = new Uint8Array(256)
for (let c = 0; c < 0x20; c++) STRING_STOP[c] = 1
STRING_STOP[QUOTE] = STRING_STOP[BACKSLASH] = 1
const WS = new Uint8Array(256)
WS[32] = WS[10] = WS[13] = WS[9] = 1
const DIGIT = new Uint8Array(256)
for (let c = 48; c <= 57; c++) DIGIT[c] = 1
const HEX = new Uint8Array(256)
for (const c of Buffer.from('0123456789abcdefABCDEF')) HEX[c] = 1
const ESCAPE = new Uint8Array(256)
for (const c of Buffer.from('"\\/bfnrt')) ESCAPE[c] = 1

/** Strings the ordinary parser treats as prototype poisoning when they are keys; never fast-pathed. */
const SUSPECT = ['__proto__"', 'constructor"'].map(w => Buffer.from(w))

function suspect (b: Uint8Array, i: number): boolean {
  for (const w of SUSPECT) {
    if (b[i + 1] !== w[0]) continue
    let k = 1
    while (k < w.length && b[i + 1 + k] === w[k]) k++
    if (k === w.length) return true
  }
  return false
}

/** What a scan learns besides validity: whether a string the ordinary parser must judge was seen. */
interface ScanState { suspect: boolean }

/**
 * Index past the string opening at b[i], or -1 if it is not a valid JSON string (RFC 8259 §7). Strings the
 * fast path leaves to the ordinary parser ("__proto__", "constructor", \u escapes that could spell them) are
 * scanned to their end too, and flagged in `st`, so the scan still checks the rest of the document (depth).
 */
function scanString (b: Uint8Array, i: number, end: number, st: ScanState): number {
  if (suspect(b, i)) st.suspect = true
  let j = i + 1
  for (;;) {
    while (j < end && STRING_STOP[b[j] ?? 0] === 0) j++
    if (j >= end) return -1
    const c = b[j]
    if (c === QUOTE) return j + 1
    if (c !== BACKSLASH) return -1 // a raw control character
    const e = b[j + 1] ?? 0
    if (e === 117) { // \uXXXX; 0x0050-0x007f could spell a poisoning key
      if (HEX[b[j + 2] ?? 0] === 0 || HEX[b[j + 3] ?? 0] === 0 || HEX[b[j + 4] ?? 0] === 0 || HEX[b[j + 5] ?? 0] === 0) return -1
      const h = b[j + 4] ?? 0
      if (b[j + 2] === 48 && b[j + 3] === 48 && h >= 53 && h <= 55) st.suspect = true
      j += 6
    } else if (ESCAPE[e] === 1) {
      j += 2
    } else {
      return -1
    }
  }
}

/** Index past the number starting at b[i], or -1 (RFC 8259 §6: no leading zeros, no NaN/Infinity). */
function scanNumber (b: Uint8Array, i: number, end: number): number {
  let j = i
  if (b[j] === 45) j++ // -
  if (b[j] === 48) j++ // 0
  else if (DIGIT[b[j] ?? 0] === 1) while (j < end && DIGIT[b[j] ?? 0] === 1) j++
  else return -1
  if (b[j] === 46) { // .
    j++
    if (DIGIT[b[j] ?? 0] === 0) return -1
    while (j < end && DIGIT[b[j] ?? 0] === 1) j++
  }
  if (b[j] === 101 || b[j] === 69) { // e E
    j++
    if (b[j] === 43 || b[j] === 45) j++
    if (DIGIT[b[j] ?? 0] === 0) return -1
    while (j < end && DIGIT[b[j] ?? 0] === 1) j++
  }
  return j > end ? -1 : j
}

const LITERALS: Array<[number, Uint8Array]> = [[116, Buffer.from('true')], [102, Buffer.from('false')], [110, Buffer.from('null')]]

function scanLiteral (b: Uint8Array, i: number, end: number): number {
  for (const [first, word] of LITERALS) {
    if (b[i] !== first) continue
    if (i + word.length > end) return -1
    for (let k = 1; k < word.length; k++) if (b[i + k] !== word[k]) return -1
    return i + word.length
  }
  return -1
}

function skipWs (b: Uint8Array, i: number, end: number): number {
  while (i < end && WS[b[i] ?? 0] === 1) i++
  return i
}

/** Where one member of an object sits: its key (quotes included) and its value, as [start, end) byte spans. */
type MemberSink = (keyStart: number, keyEnd: number, valueStart: number, valueEnd: number) => void

/** Why a scan failed: not JSON, not UTF-8, or nested deeper than allowed. */
export type ScanFailure = 'invalid' | 'utf8' | 'depth'
export type ScanResult = { ok: true, suspect: boolean } | { ok: false, reason: ScanFailure }

interface ScanOptions {
  onMember?: MemberSink
  /** Most containers open at once; one more is a 'depth' failure. */
  maxDepth?: number
  /** The caller has already proved b[start, end) valid UTF-8. */
  utf8Checked?: boolean
}

const INVALID: ScanResult = { ok: false, reason: 'invalid' }

/**
 * Whether b[start, end) is exactly one JSON value (surrounding whitespace allowed) in valid UTF-8, no deeper
 * than maxDepth. Sound: it never accepts what JSON.parse would refuse; `suspect` says the ordinary parser
 * must still judge it (see scanString). Iterative, so depth costs no stack, and the depth limit costs no extra
 * pass. `onMember` hears of every member of the outermost object, in the same pass.
 */
function scanJson (b: Uint8Array, start: number, end: number, opts: ScanOptions = {}): ScanResult {
  if (end > b.length) return INVALID
  if (opts.utf8Checked !== true && !isUtf8(b.subarray(start, end))) return { ok: false, reason: 'utf8' }
  const { onMember, maxDepth = Infinity } = opts
  const st: ScanState = { suspect: false }
  // open containers: 1 = object, 2 = array
  const stack: number[] = []
  let i = start
  let keyStart = -1
  let keyEnd = -1
  let valueStart = -1
  for (;;) {
    // expecting a value
    i = skipWs(b, i, end)
    if (stack.length === 1) valueStart = i
    const c = b[i]
    if (c === 123 || c === 91) { // { [
      const close = c === 123 ? 125 : 93
      if (stack.length >= maxDepth) return { ok: false, reason: 'depth' }
      i = skipWs(b, i + 1, end)
      if (b[i] === close) {
        i++
      } else {
        stack.push(c === 123 ? 1 : 2)
        if (c === 123) {
          const outermost = stack.length === 1
          if (outermost) keyStart = i
          if (b[i] !== QUOTE || (i = scanString(b, i, end, st)) === -1) return INVALID
          if (outermost) keyEnd = i
          i = skipWs(b, i, end)
          if (b[i++] !== 58) return INVALID // :
        }
        continue
      }
    } else if (c === QUOTE) {
      if ((i = scanString(b, i, end, st)) === -1) return INVALID
    } else if (c === 45 || DIGIT[c ?? 0] === 1) {
      if ((i = scanNumber(b, i, end)) === -1) return INVALID
    } else if ((i = scanLiteral(b, i, end)) === -1) {
      return INVALID
    }
    // after a value: close containers, or a comma and the next member
    for (;;) {
      if (stack.length === 1 && stack[0] === 1) onMember?.(keyStart, keyEnd, valueStart, i)
      i = skipWs(b, i, end)
      const open = stack.length === 0 ? 0 : stack[stack.length - 1]
      if (open === 0) return i === end ? { ok: true, suspect: st.suspect } : INVALID
      const d = b[i++]
      if (d === (open === 1 ? 125 : 93)) {
        stack.pop() // the loop's next turn sees the value this closed
        continue
      }
      if (d !== 44) return INVALID // ,
      if (open === 1) {
        i = skipWs(b, i, end)
        const outermost = stack.length === 1
        if (outermost) keyStart = i
        if (b[i] !== QUOTE || (i = scanString(b, i, end, st)) === -1) return INVALID
        if (outermost) keyEnd = i
        i = skipWs(b, i, end)
        if (b[i++] !== 58) return INVALID
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
  const r = scanJson(b, start, end, { utf8Checked })
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
  const members = new Map<string, [number, number]>()
  const r = scanJson(b, 0, b.length, {
    maxDepth,
    onMember: (ks, ke, vs, ve) => {
      // A plain loop: for short keys a subarray plus a native includes() costs more than the scan.
      let escaped = false
      for (let k = ks + 1; k < ke - 1 && !escaped; k++) escaped = b[k] === BACKSLASH
      const key = escaped ? JSON.parse(b.toString('utf8', ks, ke)) as string : b.toString('utf8', ks + 1, ke - 1)
      members.set(key, [vs, ve])
    }
  })
  if (!r.ok) return r
  return b[skipWs(b, 0, b.length)] === 123 ? { ...r, members } : INVALID as ScanResult & { ok: false }
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
