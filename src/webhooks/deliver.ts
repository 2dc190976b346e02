/**
 * One delivery attempt: POST the signed body to an address the SSRF guard already checked. The socket connects
 * to that address (the request's `lookup` answers with it), while SNI and Host keep the URL's name, so a DNS
 * answer changing between check and connect (rebinding) changes nothing. Redirects are never followed (node:http
 * does not follow them; a 3xx is a failed attempt). The whole attempt is bounded by one timeout.
 */
import http from 'node:http'
import https from 'node:https'
import type { LookupFunction } from 'node:net'
import type { CheckedTarget } from './ssrf.js'

export type AttemptResult =
  | { kind: 'response', status: number }
  | { kind: 'timeout' }
  | { kind: 'error', code: string }

/** Most response body bytes read (and discarded) before the connection is dropped. */
const MAX_RESPONSE_BYTES = 64 * 1024

const agents = {
  http: new http.Agent({ keepAlive: true, maxFreeSockets: 64 }),
  https: new https.Agent({ keepAlive: true, maxFreeSockets: 64 })
}

/** A lookup that answers with the checked address only, whatever the name (the guard checked this one). */
function pinned (address: string, family: 4 | 6): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all === true) (callback as unknown as (e: null, a: Array<{ address: string, family: number }>) => void)(null, [{ address, family }])
    else callback(null, address, family)
  }
}

export function attempt (target: CheckedTarget, headers: Record<string, string>, body: string, timeoutMs: number): Promise<AttemptResult> {
  const { url } = target
  const chosen = target.addresses[0]
  if (chosen === undefined) return Promise.resolve({ kind: 'error', code: 'ENOTFOUND' })
  const secure = url.protocol === 'https:'
  const hostname = url.hostname.replace(/^\[|\]$/g, '')
  return new Promise(resolve => {
    let settled = false
    const done = (r: AttemptResult): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resolve(r)
    }
    const req = (secure ? https : http).request({
      method: 'POST',
      // Given although the module implies it: the tracing's url.full is built from these options (attributes.ts).
      protocol: url.protocol,
      host: hostname,
      port: url.port === '' ? (secure ? 443 : 80) : Number(url.port),
      path: `${url.pathname}${url.search}`,
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      lookup: pinned(chosen.address, chosen.family),
      agent: secure ? agents.https : agents.http,
      ...(secure ? { servername: hostname } : {})
    }, res => {
      const status = res.statusCode ?? 0
      let read = 0
      res.on('data', (chunk: Buffer) => {
        read += chunk.length
        if (read > MAX_RESPONSE_BYTES) res.destroy()
      })
      res.once('end', () => done({ kind: 'response', status }))
      res.once('close', () => done({ kind: 'response', status }))
      res.once('error', () => done({ kind: 'response', status }))
    })
    const timer = setTimeout(() => {
      req.destroy()
      done({ kind: 'timeout' })
    }, timeoutMs)
    req.once('error', (err: NodeJS.ErrnoException) => done({ kind: 'error', code: err.code ?? 'ERROR' }))
    req.end(body)
  })
}

/**
 * Why an attempt did not deliver, as OpenTelemetry's `error.type` for an HTTP client: the status code (3xx
 * included: redirects are not followed), `timeout`, or the connection error's code (`ECONNREFUSED`, `refused`
 * by the SSRF guard); null for a 2xx.
 */
export function failureReason (r: AttemptResult): string | null {
  if (r.kind === 'timeout') return 'timeout'
  if (r.kind === 'error') return r.code
  return r.status >= 200 && r.status < 300 ? null : String(r.status)
}

/** The label of an attempt's outcome in metrics and in a registration's lastError. */
export function attemptLabel (r: AttemptResult): string {
  if (r.kind === 'timeout') return 'timeout'
  if (r.kind === 'error') return 'connection_error'
  if (r.status >= 200 && r.status < 300) return 'success'
  if (r.status >= 300 && r.status < 400) return 'redirect'
  return 'http_error'
}
