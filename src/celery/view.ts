/**
 * Stored or published bytes → what a client sees: the fast JSON view (fast-view.ts) or the full decode
 * (codec.ts, meta.ts), the raw route's proof that bytes are a document a parser accepts, and the observer's
 * fetched / decode-error events. No Redis here: the bytes come from ResultStore or from a PUBLISH.
 */
import { decodeMeta, DecodeError, detectFormat, type Serializer } from './codec.js'
import { fastJsonView, fastJsonViewBytes } from './fast-view.js'
import { jsonMembers } from './json-text.js'
import { READY_STATES, toView } from './meta.js'
import { noopObserver, type ResultObserver } from './observer.js'
import type { ResultView } from '../schemas/result.js'

const BACKSLASH = 0x5c

/** A view already serialized, with the two members a waiter decides on. */
export interface ViewText { state: string, ready: boolean, body: string }
/** The same as the bytes to send. */
export interface ViewBytes { state: string, ready: boolean, body: Buffer }

export interface ResultViewsOptions {
  observer?: ResultObserver
  /** RG_RESULT_MAX_BYTES: largest inflated size of a compressed published value (default: codec's 1 MiB). */
  maxInflatedBytes?: number
}

export class ResultViews {
  readonly observer: ResultObserver
  readonly maxInflatedBytes: number | undefined

  constructor (options: ResultViewsOptions = {}) {
    this.observer = options.observer ?? noopObserver
    this.maxInflatedBytes = options.maxInflatedBytes
  }

  /**
   * A document (stored, inflated, or published) → the serialized view and its state: JSON documents take the
   * fast path (the result is sliced out as text, never parsed); everything else is decoded whole.
   * Throws DecodeError like decode().
   */
  text (document: Buffer, taskId: string): ViewText {
    return this.#view(document, taskId, fastJsonView, json => json)
  }

  /** text() as the bytes to send (the fetch route's): the stored result is copied, never decoded and encoded. */
  bytes (document: Buffer, taskId: string): ViewBytes {
    return this.#view(document, taskId, fastJsonViewBytes, json => Buffer.from(json))
  }

  /** The fast path when it applies, else the full decode serialized by `encode`. */
  #view<B> (document: Buffer, taskId: string, fast: (b: Buffer, taskId: string) => { body: B, state: string } | null,
    encode: (json: string) => B): { state: string, ready: boolean, body: B } {
    if (document[0] === 0x7b) {
      const v = fast(document, taskId)
      if (v !== null) {
        this.observer.fetched(v.state)
        return { state: v.state, ready: READY_STATES.has(v.state), body: v.body }
      }
    }
    const view = this.decode(document, taskId)
    return { state: view.state, ready: view.ready, body: encode(JSON.stringify(view)) }
  }

  /** A document → the view object; counts decode errors by the format that failed. */
  decode (document: Buffer, taskId: string): ResultView {
    try {
      const { meta, plain } = decodeMeta(document, this.maxInflatedBytes)
      this.observer.fetched(meta.status)
      return toView(meta, taskId, plain)
    } catch (err) {
      if (err instanceof DecodeError) {
        err.taskId = taskId
        this.observer.decodeError(err.format)
      }
      throw err
    }
  }

  /**
   * The serializer of stored bytes, untouched, and their state, once they are known to be a Celery document a
   * client can parse: JSON must be valid (grammar and UTF-8) with a string "status"; anything else throws
   * DecodeError. One pass (#28): the validating scan that proves the bytes also locates "status", whose string
   * is the state; only what the scanner leaves to the full decoder (msgpack, \\u-escaped oddities, a status
   * that is not a plain string) is decoded whole, and its state used.
   */
  verify (stored: Buffer, taskId: string): { format: Serializer, state: string } {
    const format = detectFormat(stored)
    if (format !== 'json' && format !== 'msgpack') {
      // Pickle and yaml are named, never parsed; anything else (compressed values included: they are served
      // inflated by the view routes only) is not a document to pass through.
      const err = new DecodeError(format, format === 'unknown' ? 'unrecognised serializer' : `${format} payload`)
      err.taskId = taskId
      this.observer.decodeError(format)
      throw err
    }
    const status = format === 'json' ? jsonMembers(stored)?.get('status') : undefined
    if (status === undefined || stored[status[0]] !== 0x22) return { format, state: this.decode(stored, taskId).state }
    // The scan proved it a valid JSON string; one without escapes is its own bytes between the quotes.
    const inner = stored.subarray(status[0] + 1, status[1] - 1)
    const state = inner.includes(BACKSLASH) ? JSON.parse(stored.toString('utf8', status[0], status[1])) as string : inner.toString('utf8')
    this.observer.fetched(state)
    return { format, state }
  }
}
