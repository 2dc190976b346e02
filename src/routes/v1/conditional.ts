/**
 * Conditional reads for polling clients (RFC 9110 §8.8.3, §13.1.2; RFC 9111 §5.2.2): a strong ETag that is a
 * digest of the stored bytes (already in hand, so one hash and no extra Redis work), If-None-Match → 304, and a
 * Cache-Control that says what is true: a ready result only changes by forget or expiry, so private caches may
 * keep it until its key's TTL runs out (capped, since a forget can come at any time); anything else may change
 * at any moment and is never stored.
 */
import { hash } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'

/** Longest max-age for a ready result: a forget is the one change a cache would miss. */
export const MAX_AGE_CAP_SECONDS = 300

/**
 * `"<kind>-<digest>"`: the view and the raw bytes are different representations of one stored value, so
 * their tags differ. sha1 is only a fingerprint here (no secret, no adversary gains from a collision).
 */
export function etagOf (raw: Buffer, kind: 'view' | 'raw'): string {
  // crypto.hash: the one-shot form, without a Hash object per request.
  return `"${kind}-${hash('sha1', raw, 'base64url')}"`
}

/** ttlSeconds: the key's remaining TTL, -1 when it never expires. */
export function cacheControl (ready: boolean, ttlSeconds: number): string {
  if (!ready) return 'no-store'
  const maxAge = ttlSeconds < 0 ? MAX_AGE_CAP_SECONDS : Math.min(ttlSeconds, MAX_AGE_CAP_SECONDS)
  return `private, max-age=${maxAge}`
}

/** If-None-Match uses the weak comparison: W/ prefixes are ignored, `*` matches any stored value. */
export function matches (ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false
  return ifNoneMatch.split(',').some(tag => {
    const t = tag.trim()
    return t === '*' || (t.startsWith('W/') ? t.slice(2) : t) === etag
  })
}

/** Sets ETag and Cache-Control; answers 304 (no body) and returns true when the client's copy is current. */
export function notModified (req: FastifyRequest, reply: FastifyReply, etag: string, cache: string): boolean {
  reply.header('etag', etag).header('cache-control', cache)
  if (!matches(req.headers['if-none-match'], etag)) return false
  reply.code(304).send()
  return true
}
