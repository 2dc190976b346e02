/**
 * Which connections last failed to authenticate (a password rotated or revoked under a running gateway):
 * ioredis reconnects, Redis answers WRONGPASS/NOAUTH, and commands queued meanwhile would only time out. With
 * the failure remembered, a request on such a connection fails at once with the authentication error, and a
 * timeout on it is reported as what it is ("authentication failed"). A successful 'ready' clears it.
 */
import type { EventEmitter } from 'node:events'
import { classifyRedisError } from './errors.js'

const failed = new WeakMap<object, Error>()

/** Remembers `client`'s authentication failures until it is ready again. */
export function watchAuth (client: EventEmitter & { status: string }): void {
  client.on('error', (err: unknown) => {
    if (err instanceof Error && classifyRedisError(err) === 'auth') failed.set(client, err)
  })
  client.on('ready', () => failed.delete(client))
}

/** The authentication error of a connection that is not ready because of it, else undefined. */
export function authFailure (client: { status: string }): Error | undefined {
  return client.status === 'ready' ? undefined : failed.get(client)
}
