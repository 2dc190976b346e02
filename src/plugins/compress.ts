/**
 * Compressed answers (@fastify/compress): JSON and problem+json bodies of at least RG_COMPRESS_THRESHOLD_BYTES
 * go out as br or gzip when the client asks (Accept-Encoding), with Vary: accept-encoding. Never an event
 * stream (hijacked, and not a JSON type), never msgpack (already dense), never a request body (no
 * decompression: bodyLimit stays a bound on what is parsed). A compressed answer's strong ETag becomes weak,
 * as RFC 9110 §8.8.1 asks (a strong tag names one exact byte sequence) and nginx does; If-None-Match compares
 * weakly (conditional.ts), so a client sending either form back still gets its 304.
 */
import compress from '@fastify/compress'
import type { onSendHookHandler } from 'fastify'
import fp from 'fastify-plugin'

/** application/json, application/problem+json and any other +json type. */
const JSON_TYPES = /^application\/(?:[\w.-]+\+)?json(?:;|$)/

/** Runs after compression (appended to each route's onSend after @fastify/compress's own). */
const weakenCompressedEtag: onSendHookHandler = (_req, reply, payload, done) => {
  const coding = reply.getHeader('content-encoding')
  const etag = reply.getHeader('etag')
  if (coding !== undefined && coding !== 'identity' && typeof etag === 'string' && !etag.startsWith('W/')) reply.header('etag', `W/${etag}`)
  done(null, payload)
}

export default fp<{ thresholdBytes: number }>(async (app, { thresholdBytes }) => {
  if (thresholdBytes === 0) return
  await app.register(compress, {
    encodings: ['br', 'gzip'],
    threshold: thresholdBytes,
    customTypes: JSON_TYPES,
    globalDecompression: false
  })
  // onRoute hooks run in registration order: this one sees each route after @fastify/compress added its onSend.
  app.addHook('onRoute', (route) => {
    const own = route.onSend === undefined ? [] : Array.isArray(route.onSend) ? route.onSend : [route.onSend]
    route.onSend = [...own, weakenCompressedEtag]
  })
}, { name: 'compress' })
