/**
 * Stream tickets: short-lived, stateless read grants for exactly some task and group ids, for clients that
 * cannot send Authorization (a browser's EventSource). HMAC-SHA256 signed, so any replica with the same key
 * verifies one without Redis. Pure: no Fastify, no I/O.
 *
 * Wire form: base64url(body ‖ tag), body = version(1) ‖ expires(u32 BE, unix s) ‖ nameLen(1) ‖ token name ‖
 * tasks(u16 BE) ‖ groups(u16 BE) ‖ 8-byte keyed digests of each id, tag = HMAC(key, body ‖ keyPrefix). Ids
 * are digests, not text, so a 1,000-id ticket is ~10.7 KB of URL instead of ~40 KB; the keyPrefix is bound by
 * the tag, not carried, so a ticket dies with its token's confinement changing.
 * @see https://www.rfc-editor.org/rfc/rfc2104 (HMAC), https://www.rfc-editor.org/rfc/rfc5869 (HKDF)
 */
import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto'

const VERSION = 1
const TAG_BYTES = 32
const DIGEST_BYTES = 8
/** Longest ticket looked at: 10,000 ids of each kind would not fit a URL anyway. */
export const MAX_TICKET_CHARS = 16_384

export type IdKind = 'task' | 'group'

export interface TicketGrant {
  /** Name of the token that asked for it (RG_AUTH_TOKENS `name`). */
  tokenName: string
  /** Celery key prefix the token is confined to; bound into the signature. */
  keyPrefix: string
  taskIds: readonly string[]
  groupIds: readonly string[]
  /** Unix seconds. */
  expiresAt: number
}

/** What a verified ticket says: who issued it, until when, and a membership test for ids. */
export interface VerifiedTicket {
  tokenName: string
  expiresAt: number
  allows: (kind: IdKind, id: string) => boolean
}

/** Why a ticket was refused; the caller maps this to its 401. */
export class TicketError extends Error {}

/**
 * The signing key: HKDF over RG_TICKET_SECRET, or else over every token's name and secret (so all replicas
 * with the same RG_AUTH_TOKENS agree, and changing any token invalidates outstanding tickets). No tokens at all
 * (auth off): a random per-process key, since nothing is checked then.
 */
export function ticketKey (secret: string | null, tokens: ReadonlyArray<{ name: string, token: string }>): Buffer {
  let ikm: Buffer
  if (secret !== null) ikm = Buffer.from(secret, 'utf8')
  else if (tokens.length > 0) ikm = Buffer.from([...tokens].sort((a, b) => a.name < b.name ? -1 : 1).map(t => `${t.name}\0${t.token}\0`).join(''), 'utf8')
  else ikm = randomBytes(32)
  return Buffer.from(hkdfSync('sha256', ikm, 'result-gateway', `ticket v${VERSION}${secret === null ? ' from tokens' : ''}`, 32))
}

const idDigest = (key: Buffer, kind: IdKind, id: string): Buffer =>
  createHmac('sha256', key).update(`${kind}\0${id}`).digest().subarray(0, DIGEST_BYTES)

const tagOf = (key: Buffer, body: Buffer, keyPrefix: string): Buffer =>
  createHmac('sha256', key).update(body).update(`\0${keyPrefix}`).digest()

export function mintTicket (key: Buffer, grant: TicketGrant): string {
  const name = Buffer.from(grant.tokenName, 'utf8')
  const head = Buffer.alloc(1 + 4 + 1)
  head.writeUInt8(VERSION, 0)
  head.writeUInt32BE(grant.expiresAt, 1)
  head.writeUInt8(name.length, 5)
  const counts = Buffer.alloc(4)
  counts.writeUInt16BE(grant.taskIds.length, 0)
  counts.writeUInt16BE(grant.groupIds.length, 2)
  const body = Buffer.concat([
    head, name, counts,
    ...grant.taskIds.map(id => idDigest(key, 'task', id)),
    ...grant.groupIds.map(id => idDigest(key, 'group', id))
  ])
  return Buffer.concat([body, tagOf(key, body, grant.keyPrefix)]).toString('base64url')
}

/** Checks form, signature (constant time) and expiry; throws TicketError saying which failed. */
export function verifyTicket (key: Buffer, ticket: string, keyPrefixOf: (tokenName: string) => string | undefined, nowSeconds: number): VerifiedTicket {
  if (ticket.length > MAX_TICKET_CHARS || !/^[A-Za-z0-9_-]+$/.test(ticket)) throw new TicketError('malformed ticket')
  const bytes = Buffer.from(ticket, 'base64url')
  if (bytes.length < 6 + 4 + TAG_BYTES || bytes[0] !== VERSION) throw new TicketError('malformed ticket')
  const nameLen = bytes.readUInt8(5)
  const countsAt = 6 + nameLen
  if (bytes.length < countsAt + 4 + TAG_BYTES) throw new TicketError('malformed ticket')
  const tasks = bytes.readUInt16BE(countsAt)
  const groups = bytes.readUInt16BE(countsAt + 2)
  const digestsAt = countsAt + 4
  const tagAt = digestsAt + (tasks + groups) * DIGEST_BYTES
  if (bytes.length !== tagAt + TAG_BYTES) throw new TicketError('malformed ticket')
  const tokenName = bytes.subarray(6, countsAt).toString('utf8')
  const keyPrefix = keyPrefixOf(tokenName)
  // An unknown issuer is told apart from a bad tag only after the tag is computed, so both take the same time.
  const body = bytes.subarray(0, tagAt)
  const expected = tagOf(key, body, keyPrefix ?? '')
  if (!timingSafeEqual(expected, bytes.subarray(tagAt)) || keyPrefix === undefined) throw new TicketError('ticket signature does not verify (forged, altered, or its token was changed)')
  const expiresAt = bytes.readUInt32BE(1)
  if (expiresAt <= nowSeconds) throw new TicketError(`ticket expired at ${new Date(expiresAt * 1000).toISOString()}`)
  const has = (from: number, count: number, digest: Buffer): boolean => {
    for (let i = 0; i < count; i++) {
      const at = digestsAt + (from + i) * DIGEST_BYTES
      if (bytes.compare(digest, 0, DIGEST_BYTES, at, at + DIGEST_BYTES) === 0) return true
    }
    return false
  }
  return {
    tokenName,
    expiresAt,
    allows: (kind, id) => kind === 'task' ? has(0, tasks, idDigest(key, 'task', id)) : has(tasks, groups, idDigest(key, 'group', id))
  }
}
