/**
 * Celery result documents as bytes: detects the serializer a stored value was written with, decodes json
 * and msgpack, refuses pickle and yaml without ever parsing them, and encodes documents the way Celery does.
 * Celery's Redis backend never compresses (checked in 5.2–5.6); gzip/zlib values written by other tools
 * are inflated on read, and the gateway never writes compressed values.
 */
import { promisify } from 'node:util'
import { gunzip, gunzipSync, inflate, inflateSync } from 'node:zlib'
import { isUtf8 } from 'node:buffer'
import { decode as msgpackDecode, encode as msgpackEncode } from '@msgpack/msgpack'
import { MAX_VALUE_DEPTH, RawJson } from './json-text.js'

export type Serializer = 'json' | 'msgpack'
export type DetectedFormat = Serializer | 'pickle' | 'yaml' | 'unknown'

/** A Celery meta document as stored (see shared fixtures / celery.backends.base._get_result_meta). */
export interface CeleryMeta {
  status: string
  result: unknown
  traceback: string | null
  children: unknown[]
  date_done: string | null
  task_id: string
  parent_id?: string
  group_id?: string
  name?: string | null
  args?: unknown
  kwargs?: unknown
  worker?: string | null
  retries?: number | null
  queue?: string | null
}

export class DecodeError extends Error {
  readonly format: DetectedFormat
  /** The task whose value failed, when known. */
  taskId: string | undefined
  override name = 'DecodeError'
  constructor (format: DetectedFormat, message: string) {
    super(message)
    this.format = format
  }
}

/** Which serializer wrote these bytes. No marker is stored, so this reads the first bytes. */
export function detectFormat (buf: Uint8Array): DetectedFormat {
  const b0 = buf[0]
  if (b0 === undefined) return 'unknown'
  // pickle protocol 2+ starts with PROTO (0x80); protocols 0/1 with '(' + 'dp' or '}' (EMPTY_DICT).
  // msgpack's 0x80 is an empty map, which is never a Celery document.
  if (b0 === 0x80 || b0 === 0x7d || (b0 === 0x28 && buf[1] === 0x64 && buf[2] === 0x70)) return 'pickle'
  if (b0 === 0x7b) return 'json' // '{'
  if ((b0 >= 0x81 && b0 <= 0x8f) || b0 === 0xde || b0 === 0xdf) return 'msgpack'
  if (/^[a-z_]+:/.test(Buffer.from(buf.subarray(0, 32)).toString('latin1'))) return 'yaml'
  return 'unknown'
}

/**
 * Largest inflated size of a compressed stored value when the caller names none (RG_RESULT_MAX_BYTES, whose
 * default is the body limit: 1 MiB). A zlib stream inflates up to ~1,000× its size, so without a cap a 1 MB
 * value grows to 1 GiB of memory and seconds of CPU.
 */
export const DEFAULT_MAX_INFLATED_BYTES = 1 << 20

function compression (buf: Buffer): 'gzip' | 'zlib' | null {
  if (buf[0] === 0x1f && buf[1] === 0x8b) return 'gzip'
  const b1 = buf[1]
  if (buf[0] === 0x78 && b1 !== undefined && (0x78 * 256 + b1) % 31 === 0) return 'zlib'
  return null
}

function inflateError (err: unknown, maxBytes: number): DecodeError {
  return (err as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE'
    ? new DecodeError('unknown', `compressed value inflates to more than ${maxBytes} bytes (RG_RESULT_MAX_BYTES)`)
    : new DecodeError('unknown', 'corrupt compressed value')
}

/** Stored values whose off-loop inflation failed, with the error a decode of them throws (see inflateStored). */
const failedInflations = new WeakMap<Buffer, DecodeError>()
const gunzipAsync = promisify(gunzip)
const inflateAsync = promisify(inflate)

/** True when the stored value is gzip or zlib data (inflateStored would inflate it). */
export function isCompressed (buf: Buffer): boolean {
  return compression(buf) !== null
}

/**
 * A stored value with its compression undone off the event loop (zlib's thread pool, in 16 KiB steps) and
 * its output capped at maxBytes. Values that are not compressed come back as they are. When inflation fails
 * the stored value itself comes back, remembered, so decoding it throws that error without inflating again.
 */
export async function inflateStored (stored: Buffer, maxBytes = DEFAULT_MAX_INFLATED_BYTES): Promise<Buffer> {
  const kind = compression(stored)
  if (kind === null) return stored
  try {
    return await (kind === 'gzip' ? gunzipAsync : inflateAsync)(stored, { maxOutputLength: maxBytes })
  } catch (err) {
    failedInflations.set(stored, inflateError(err, maxBytes))
    return stored
  }
}

/** Synchronous inflation for values not read through inflateStored (published payloads, statistics): capped too. */
function inflateIfCompressed (buf: Buffer, maxBytes: number): Buffer {
  const failed = failedInflations.get(buf)
  if (failed !== undefined) throw failed
  const kind = compression(buf)
  if (kind === null) return buf
  try {
    return (kind === 'gzip' ? gunzipSync : inflateSync)(buf, { maxOutputLength: maxBytes })
  } catch (err) {
    throw inflateError(err, maxBytes)
  }
}

/** Decodes any stored Celery document (result or group); throws DecodeError naming pickle, yaml, garbage. */
export function decodeDocument (stored: Buffer, maxBytes = DEFAULT_MAX_INFLATED_BYTES): { doc: unknown, format: Serializer, buf: Buffer } {
  const buf = inflateIfCompressed(stored, maxBytes)
  const format = detectFormat(buf)
  let doc: unknown
  if (format === 'json') {
    // Invalid UTF-8 would decode to U+FFFD and be served as if Celery had stored it; it is corrupt instead.
    if (!isUtf8(buf)) throw new DecodeError(format, 'invalid UTF-8')
    try {
      doc = JSON.parse(buf.toString('utf8'))
    } catch {
      throw new DecodeError(format, 'invalid JSON')
    }
  } else if (format === 'msgpack') {
    try {
      doc = msgpackDecode(buf)
    } catch {
      throw new DecodeError(format, 'invalid msgpack')
    }
  } else {
    throw new DecodeError(format, format === 'unknown' ? 'unrecognised serializer' : `${format} payload`)
  }
  return { doc, format, buf }
}

/** Decodes a stored result; throws DecodeError naming the format for pickle, yaml and garbage. */
export function decodeMeta (stored: Buffer, maxBytes = DEFAULT_MAX_INFLATED_BYTES): { meta: CeleryMeta, format: Serializer, plain: boolean } {
  const { doc, format, buf } = decodeDocument(stored, maxBytes)
  if (!isMeta(doc)) throw new DecodeError(format, 'not a Celery result document (no "status")')
  // JSON without kombu's typed wrappers needs no conversion walk; msgpack may hold binary values.
  const plain = format === 'msgpack' || buf.includes('"__type__"')
  return { meta: doc, format, plain }
}

function isMeta (doc: unknown): doc is CeleryMeta {
  return typeof doc === 'object' && doc !== null && !Array.isArray(doc) &&
    typeof (doc as { status?: unknown }).status === 'string'
}

/**
 * The document to store, as Celery's own backend would store it for this serializer: JSON as text (ioredis
 * writes a string straight to the socket), msgpack as bytes, and a document around a RawJson result as
 * bytes: the client's result bytes are copied in once, never decoded or re-encoded.
 */
export function serializeMeta (meta: CeleryMeta, serializer: Serializer): string | Buffer {
  const raw = meta.result instanceof RawJson ? meta.result : null
  if (serializer === 'msgpack') {
    // The encoder refuses more than 100 levels by default; bodies are checked against MAX_VALUE_DEPTH (plus the
    // document and its wrappers around a value).
    const packed = msgpackEncode(raw === null ? meta : { ...meta, result: raw.parse() }, { maxDepth: MAX_VALUE_DEPTH + 8 })
    return Buffer.from(packed.buffer, packed.byteOffset, packed.byteLength)
  }
  if (raw === null) return JSON.stringify(meta)
  // status is the first key and result the second (Celery's order): the client's result goes in place of
  // the null that stands for it.
  const head = `{"status":${JSON.stringify(meta.status)},"result":`
  const rest = JSON.stringify({ ...meta, result: null })
  if (!rest.startsWith(`${head}null`)) throw new Error('serializeMeta: status and result must lead the document')
  // Bytes, not a string: the result stays the client's bytes, copied once. As a string it was decoded to text,
  // kept on the JS heap while the store was in flight (copied by every young-generation GC it lived through)
  // and encoded back to UTF-8 by the socket write (Node 20: ~1 ns a character).
  const tail = rest.slice(head.length + 4)
  const headBytes = Buffer.byteLength(head)
  const doc = Buffer.allocUnsafe(headBytes + raw.bytes.length + Buffer.byteLength(tail))
  doc.write(head, 0)
  raw.bytes.copy(doc, headBytes)
  doc.write(tail, headBytes + raw.bytes.length)
  return doc
}

/** serializeMeta as bytes: exactly what Redis holds afterwards. */
export function encodeMeta (meta: CeleryMeta, serializer: Serializer): Buffer {
  const doc = serializeMeta(meta, serializer)
  return typeof doc === 'string' ? Buffer.from(doc, 'utf8') : doc
}
