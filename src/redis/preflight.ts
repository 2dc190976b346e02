/**
 * One connection attempt at startup, to tell errors that retrying never fixes (untrusted or expired
 * certificate, wrong server name, a plain-text server behind a TLS URL, a missing client certificate,
 * wrong credentials) from a Redis that is merely not up yet. The first are fatal, with the fix to apply;
 * the second is a warning — readiness reports it until Redis answers.
 */
import { connect } from 'node:net'
import { Redis } from 'ioredis'
import type { RedisSettings } from './settings.js'
import { redisOptions } from './connect.js'

export type PreflightResult =
  | { status: 'ok' }
  | { status: 'fatal', message: string }
  | { status: 'unreachable', message: string }

const CERT_CODES: Record<string, string> = {
  SELF_SIGNED_CERT_IN_CHAIN: 'the server certificate is signed by a CA that is not trusted',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the server certificate is self-signed and not trusted',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the server certificate is signed by a CA that is not trusted',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'the server certificate is signed by a CA that is not trusted',
  CERT_HAS_EXPIRED: 'the server certificate has expired',
  CERT_NOT_YET_VALID: 'the server certificate is not valid yet',
  ERR_TLS_CERT_ALTNAME_INVALID: 'the server certificate does not carry the host name connected to'
}
const CA_FIX = 'set RG_REDIS_TLS_CA_FILE (or ssl_ca_certs) to the CA that signed it'

/** Fatal configuration problem behind a connection error, or null when it may be transient. */
export function explainConnectError (err: Error & { code?: string }, tls: boolean): string | null {
  const code = err.code ?? ''
  const cert = CERT_CODES[code]
  if (cert !== undefined) {
    const fix = code === 'ERR_TLS_CERT_ALTNAME_INVALID' ? 'connect by the name in the certificate or set RG_REDIS_TLS_SERVERNAME' : code.startsWith('CERT_') ? 'renew the server certificate' : CA_FIX
    return `TLS: ${cert} (${err.message}); ${fix}`
  }
  if (/WRONGPASS|invalid username-password|NOAUTH|AUTH .*without any password/i.test(err.message)) {
    return `authentication failed (${err.message.split('\n')[0] ?? ''}); check RG_REDIS_USERNAME / RG_REDIS_PASSWORD (or the URL's user:password)`
  }
  if (tls && /CERTIFICATE_REQUIRED|alert certificate required|alert bad certificate|alert unknown ca/i.test(`${code} ${err.message}`)) {
    return `TLS: the server refused the client certificate or wants one (${err.message}); set RG_REDIS_TLS_CERT_FILE and RG_REDIS_TLS_KEY_FILE to a certificate its CA signed`
  }
  if (tls && /wrong version number|packet length too long|unknown protocol|ERR_SSL/i.test(`${code} ${err.message}`)) {
    return 'TLS: the server does not speak TLS on this port: use redis:// or enable TLS on the server'
  }
  return null
}

/** Sends PING in plain text: true when the server answers like Redis (so it is not a TLS port). */
function speaksPlainRedis (host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise(resolve => {
    const sock = connect({ host, port })
    const done = (v: boolean): void => { sock.destroy(); resolve(v) }
    sock.setTimeout(timeoutMs, () => done(false))
    sock.once('error', () => done(false))
    sock.once('connect', () => sock.write('PING\r\n'))
    sock.once('data', (d: Buffer) => done(d[0] === 0x2b || d[0] === 0x2d))
  })
}

export async function preflight (cfg: RedisSettings): Promise<PreflightResult> {
  const t = cfg.topology
  if (t?.kind === 'cluster' && t.nodes.length > 1) {
    // Any one seed node that answers will do; a lost node is not a configuration error.
    let last: PreflightResult = { status: 'unreachable', message: 'no seed node' }
    for (const node of t.nodes) {
      last = await preflight({ ...cfg, topology: { kind: 'cluster', nodes: [node] } })
      if (last.status !== 'unreachable') return last
    }
    return last
  }
  const opts = redisOptions(cfg, 'data')
  const client = new Redis({ ...opts, lazyConnect: true, retryStrategy: () => null, sentinelRetryStrategy: () => null, maxRetriesPerRequest: 0, connectionName: 'result-gateway:preflight' })
  let first: (Error & { code?: string }) | undefined
  client.on('error', (err: Error) => { first ??= err })
  try {
    await client.connect()
    await client.ping()
    return { status: 'ok' }
  } catch (err) {
    const e = first ?? (err as Error)
    const tls = cfg.tls !== null
    const fatal = explainConnectError(e, tls)
    if (fatal !== null) return { status: 'fatal', message: fatal }
    if (tls && opts.host !== undefined && opts.port !== undefined && /ETIMEDOUT|ECONNRESET|socket disconnected|Connection is closed/.test(e.message) &&
      await speaksPlainRedis(opts.host, opts.port, 1000)) {
      return { status: 'fatal', message: `TLS: ${opts.host}:${opts.port} answers in plain text, not TLS: use redis:// (and unset RG_REDIS_TLS), or enable TLS on the server` }
    }
    if (tls && /ECONNRESET/.test(e.message)) {
      return { status: 'unreachable', message: `${e.message} during the TLS handshake: if the server requires client certificates, set RG_REDIS_TLS_CERT_FILE and RG_REDIS_TLS_KEY_FILE` }
    }
    return { status: 'unreachable', message: e.message }
  } finally {
    client.disconnect()
  }
}
