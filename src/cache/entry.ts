/**
 * What the answer cache (answer-cache.ts) holds per Redis key: the stored bytes and their key's deadline, the
 * answers derived from them, or "nothing stored"; what each costs towards the bound besides its bytes; and how
 * a deadline becomes the seconds a client is told.
 */

/** What one answer costs besides its bytes (Map slot, object headers, strings of the tags): measured ~ 0.4 KB. */
export const ENTRY_OVERHEAD_BYTES = 400
/** What a derived answer (the view, the raw answer) adds to an entry besides its body (tag, state, object). */
export const ANSWER_OVERHEAD_BYTES = 120
/**
 * Entries go this long before their key's deadline: the deadline is PTTL counted from before the read was sent
 * (early, never late), and this margin keeps a client's max-age, in whole seconds rounded as TTL rounds them,
 * from outliving the key.
 */
export const TTL_ROUNDING_MS = 500

/** A view answer, ready to send (a kept one's body lives in the cache's pages and may move between them). */
export interface ViewAnswer { body: Buffer, etag: string, state: string, ready: boolean }
/** A raw answer: the stored bytes are sent as they are. */
export interface RawAnswer { etag: string, ready: boolean, contentType: string }

/** What every entry has: its key, its size besides its bytes, its place in the eviction order (answer-cache.ts), a second chance. */
interface Kept {
  readonly key: string
  /** Its overhead (its bytes are counted by the pages they are in). */
  bytes: number
  used: boolean
  newer?: Entry | undefined
  older?: Entry | undefined
}
export interface Found extends Kept {
  readonly missing: false
  /**
   * The stored bytes, kept when a raw read filled the entry (a view read keeps only its view: a cache of view
   * polls holds twice the answers in the same bytes): a copy in the cache's pages (never a slice of a socket
   * buffer, which would pin the whole chunk); moved to the newest page when the entry gets its second chance.
   */
  raw?: Buffer
  /** When the key expires (ms since the epoch), Infinity when it never does. */
  readonly expiresAt: number
  view?: ViewAnswer
  rawAnswer?: RawAnswer
}
/** An entry filled by a raw read: it holds the stored bytes. */
export type FoundRaw = Found & { raw: Buffer }
export interface Missing extends Kept { readonly missing: true }
export type Entry = Found | Missing

/** Remaining whole seconds until `expiresAt` as Redis TTL would say it (-1: never expires). */
export function ttlSecondsAt (expiresAt: number, now: number): number {
  if (expiresAt === Infinity) return -1
  return Math.max(0, Math.round((expiresAt - now) / 1000))
}
