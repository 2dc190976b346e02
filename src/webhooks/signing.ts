/**
 * Standard Webhooks signatures: `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`,
 * keyed by the base64 part of a `whsec_…` secret. Several secrets (rotation) sign with each, space-separated.
 * @see https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
 */
import { createHash, createHmac } from 'node:crypto'

const SECRET = /^whsec_([A-Za-z0-9+/]+={0,2})$/

/** The keys of RG_WEBHOOK_SECRET (one or more `whsec_…`, separated by spaces or commas); throws naming the bad one by position. */
export function parseSecrets (raw: string): Buffer[] {
  const parts = raw.split(/[\s,]+/).filter(p => p !== '')
  if (parts.length === 0) throw new Error('RG_WEBHOOK_SECRET: no secret given')
  return parts.map((p, i) => {
    const m = SECRET.exec(p)
    const key = m?.[1] === undefined ? null : Buffer.from(m[1], 'base64')
    // Never echo the value: it is the secret.
    if (key === null || key.length < 16) {
      throw new Error(`RG_WEBHOOK_SECRET: secret #${i + 1} must be whsec_ followed by the base64 of at least 16 random bytes`)
    }
    return key
  })
}

/** The webhook-signature header value for one message. */
export function sign (keys: readonly Buffer[], id: string, timestamp: number, body: string): string {
  const content = `${id}.${timestamp}.${body}`
  return keys.map(k => `v1,${createHmac('sha256', k).update(content).digest('base64')}`).join(' ')
}

/**
 * The webhook-id of a delivery: stable per subscription, task and state, the same on every retry and from
 * every replica, so receivers can de-duplicate. Also the digest the enqueue claim is keyed by.
 */
export function webhookId (subscription: string, keyPrefix: string, taskId: string, state: string): string {
  const digest = createHash('sha256').update(`${subscription}\n${keyPrefix}\n${taskId}\n${state}`).digest('base64url').slice(0, 32)
  return `msg_${digest}`
}
