/**
 * Fuzzing over a real socket: seeded random requests (ids, bodies, headers, methods, encodings, truncated and
 * oversize payloads, invalid UTF-8, deep nesting, raw garbage on the wire) against a running gateway.
 * `npm run fuzz` runs 10,000 by default (FUZZ_REQUESTS, FUZZ_SEED); test/integration/fuzz.test.ts runs a
 * shorter seeded round in CI and checks the same invariants.
 */
import { connect } from 'node:net'
import { request } from 'node:http'

export interface FuzzStats { sent: number, byStatus: Record<string, number>, unexpected5xx: Array<{ method: string, path: string, status: number }> }

function rng (seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let x = s
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

export async function runFuzz (base: string, n: number, seed: number, headers: Record<string, string> = {}): Promise<FuzzStats> {
  const r = rng(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T
  const url = new URL(base)
  const ids = ['ok-1', 'fuzz-a', 'x'.repeat(255), 'x'.repeat(300), '%2A', '..%2F..', '%00', '%C3%28', 'a%20b', '%E2%9C%93', 'a:b@c', '-x', '']
  const paths = (id: string) => [`/v1/results/${id}`, `/v1/results/${id}/raw`, `/v1/results/${id}/wait?timeoutSeconds=0`, `/v1/results/${id}/ttl`,
    `/v1/results/${id}/events?timeoutSeconds=0`, '/v1/results:batchGet', '/v1/results:batchWait', `/v1/groups/${id}`, '/metrics', '/readyz', '/nope', '/v1/results']
  const deep = (d: number): string => d === 0 ? '1' : `[${deep(d - 1)}]`
  const bodies = () => [
    '', '{', '{"state":"SUCCESS"', '{"state":"SUCCESS","result":1}', '{"state":"bogus"}', '{"state":"FAILURE","error":{"type":"E"}}',
    `{"state":"SUCCESS","result":${deep(Math.floor(r() * 3000))}}`, '{"taskIds":["a","b"]}', `{"taskIds":${JSON.stringify(Array.from({ length: Math.floor(r() * 2000) }, (_, i) => `i${i}`))}}`,
    '{"ttlSeconds":-5}', '{"ttlSeconds":null}', '[]', 'null', '"str"', '\u0000\u0001', Buffer.from([0xff, 0xfe, 0xc3, 0x28]).toString('latin1'),
    'x'.repeat(Math.floor(r() * 3_000_000)), JSON.stringify({ state: 'SUCCESS', result: 'é'.repeat(1000), extra: true })
  ]
  const types = ['application/json', 'application/json; charset=latin1', 'text/plain', 'application/x-python-serialize', 'application/x-www-form-urlencoded', 'multipart/form-data', '']
  const stats: FuzzStats = { sent: 0, byStatus: {}, unexpected5xx: [] }
  const one = (): Promise<void> => {
    const method = pick(['GET', 'GET', 'PUT', 'PUT', 'POST', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'])
    const path = pick(paths(pick(ids)))
    const body = ['GET', 'HEAD', 'DELETE', 'OPTIONS'].includes(method) && r() < 0.8 ? '' : pick(bodies())
    const type = pick(types)
    const extra: Record<string, string> = r() < 0.2 ? { 'content-encoding': pick(['gzip', 'br', 'identity', 'bogus']) } : {}
    if (r() < 0.1) extra.authorization = pick(['Bearer', 'Bearer ' + 'z'.repeat(40), 'Basic Zm9vOmJhcg=='])
    if (r() < 0.05) extra['last-event-id'] = 'x'.repeat(Math.floor(r() * 200))
    return new Promise(resolve => {
      const req = request({ host: url.hostname, port: url.port, method, path, headers: { ...headers, ...(type === '' ? {} : { 'content-type': type }), ...extra } }, res => {
        const s = res.statusCode ?? 0
        stats.byStatus[s] = (stats.byStatus[s] ?? 0) + 1
        if (s >= 500 && s !== 503) stats.unexpected5xx.push({ method, path, status: s })
        res.resume()
        res.on('end', resolve)
        res.on('error', () => resolve())
      })
      req.on('error', () => { stats.byStatus.reset = (stats.byStatus.reset ?? 0) + 1; resolve() })
      req.setTimeout(15_000, () => req.destroy())
      // Sometimes announce more than is sent (truncated body), then hang up.
      if (r() < 0.05 && body.length > 0) {
        req.setHeader('content-length', String(body.length + 100))
        req.write(body)
        setTimeout(() => req.destroy(), 20)
      } else {
        req.end(body)
      }
      stats.sent++
    })
  }
  const garbage = (): Promise<void> => new Promise(resolve => {
    const sock = connect(Number(url.port), url.hostname, () => {
      sock.end(pick(['GET / HTTP/9.9\r\n\r\n', 'BLAH\r\n\r\n', '\x00\x01\x02\r\n', 'GET /v1/results/a HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n', 'PUT /v1/results/a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n']))
    })
    sock.on('data', () => {})
    sock.on('close', () => resolve())
    sock.on('error', () => resolve())
    stats.sent++
  })
  const concurrency = 20
  let left = n
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (left-- > 0) await (r() < 0.03 ? garbage() : one())
  }))
  return stats
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  const base = process.env.FUZZ_URL ?? 'http://127.0.0.1:8080'
  const stats = await runFuzz(base, Number(process.env.FUZZ_REQUESTS ?? 10000), Number(process.env.FUZZ_SEED ?? 1), process.env.FUZZ_TOKEN === undefined ? {} : { authorization: `Bearer ${process.env.FUZZ_TOKEN}` })
  process.stdout.write(`${JSON.stringify(stats, null, 2)}\n`)
}
