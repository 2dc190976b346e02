/**
 * Fuzzing over a real socket: seeded random requests (ids, bodies, headers, methods, encodings, truncated and
 * oversize payloads, invalid UTF-8, deep nesting, raw garbage on the wire) against a running gateway.
 * `npm run fuzz` runs 10,000 by default (FUZZ_REQUESTS, FUZZ_SEED); test/integration/fuzz.test.ts runs a
 * shorter seeded round in CI and checks the same invariants.
 */
import { connect } from 'node:net'
import { request } from 'node:http'
import { zlibBomb } from '../test/helpers/bomb.js'

export interface FuzzStats {
  sent: number
  byStatus: Record<string, number>
  unexpected5xx: Array<{ method: string, path: string, status: number }>
  /** Answers whose X-Request-Id is missing or not 1–128 safe characters. */
  badRequestIds: Array<{ method: string, path: string, status: number, id: string | undefined }>
}

/**
 * Values other tools leave in Redis, stored at result keys before a round (by the test, or by `npm run fuzz`
 * when FUZZ_REDIS_URL is set): a zlib bomb (1 MB → 1 GiB), invalid JSON, invalid UTF-8, a pickle, a list.
 * The ids are among the ones the fuzzer requests.
 */
export function hostileValues (): Array<[string, Buffer]> {
  return [
    ['zb', zlibBomb(1024)],
    ['bad-json', Buffer.from('{"status":"SUCCESS","result":{"a":tru}}')],
    ['bad-utf8', Buffer.concat([Buffer.from('{"status":"SUCCESS","result":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')])],
    ['pickled', Buffer.from('8004950b000000000000007d94288c0673746174757394752e', 'hex')]
  ]
}

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:/=+-]{1,128}$/

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
  const ids = ['ok-1', 'fuzz-a', 'zb', 'bad-json', 'bad-utf8', 'pickled', 'x'.repeat(255), 'x'.repeat(300), '%2A', '..%2F..', '%00', '%C3%28', 'a%20b', '%E2%9C%93', 'a:b@c', '-x', '']
  const paths = (id: string) => [`/v1/results/${id}`, `/v1/results/${id}/raw`, `/v1/results/${id}/wait?timeoutSeconds=0`, `/v1/results/${id}/ttl`,
    `/v1/results/${id}/events?timeoutSeconds=0`, '/v1/results:batchGet', '/v1/results:batchWait', `/v1/groups/${id}`, '/metrics', '/readyz', '/nope', '/v1/results']
  const deep = (d: number): string => `${'['.repeat(d)}1${']'.repeat(d)}`
  const bodies = (): Array<string | Buffer> => [
    '', '{', '{"state":"SUCCESS"', '{"state":"SUCCESS","result":1}', '{"state":"bogus"}', '{"state":"FAILURE","error":{"type":"E"}}',
    `{"state":"SUCCESS","result":${deep(Math.floor(r() * 3000))}}`, '{"taskIds":["a","b"]}', `{"taskIds":${JSON.stringify(Array.from({ length: Math.floor(r() * 2000) }, (_, i) => `i${i}`))}}`,
    '{"ttlSeconds":-5}', '{"ttlSeconds":null}', '[]', 'null', '"str"', '\u0000\u0001', Buffer.from([0xff, 0xfe, 0xc3, 0x28]).toString('latin1'),
    'x'.repeat(Math.floor(r() * 3_000_000)), JSON.stringify({ state: 'SUCCESS', result: 'é'.repeat(1000), extra: true }),
    // #15: deeper than Celery reads, invalid UTF-8 inside a string (also overlong and surrogate forms), a batch of
    // 10,000 distinct ids, duplicate ids
    `{"state":"SUCCESS","result":${deep(100_000)}}`, `{"state":"SUCCESS","result":1,"args":[${deep(200)}]}`,
    ...['{"state":"SUCCESS","result":"\xc3\x28"}', '{"state":"SUCCESS","result":"\xc0\xaf\xed\xa0\x80"}', '{"taskIds":["a\xff"]}'].map(b => Buffer.from(b, 'latin1')),
    `{"taskIds":${JSON.stringify(Array.from({ length: 10_000 }, (_, i) => `id-${i}`))}}`, '{"taskIds":["a","b","a"]}'
  ]
  const types = ['application/json', 'application/json; charset=latin1', 'text/plain', 'application/x-python-serialize', 'application/x-www-form-urlencoded', 'multipart/form-data', '']
  const stats: FuzzStats = { sent: 0, byStatus: {}, unexpected5xx: [], badRequestIds: [] }
  const one = (): Promise<void> => {
    const method = pick(['GET', 'GET', 'PUT', 'PUT', 'POST', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'])
    const path = pick(paths(pick(ids)))
    const body = ['GET', 'HEAD', 'DELETE', 'OPTIONS'].includes(method) && r() < 0.8 ? '' : pick(bodies())
    const type = pick(types)
    const extra: Record<string, string> = r() < 0.2 ? { 'content-encoding': pick(['gzip', 'br', 'identity', 'bogus']) } : {}
    if (r() < 0.1) extra.authorization = pick(['Bearer', 'Bearer ' + 'z'.repeat(40), 'Basic Zm9vOmJhcg=='])
    if (r() < 0.05) extra['last-event-id'] = 'x'.repeat(Math.floor(r() * 200))
    if (r() < 0.2) extra['x-request-id'] = pick(['trace-1', 'x'.repeat(Math.floor(r() * 4000)), 'a b<script>', '"quoted"', '\u00e9t\u00e9', '', '../../etc'])
    return new Promise(resolve => {
      const req = request({ host: url.hostname, port: url.port, method, path, headers: { ...headers, ...(type === '' ? {} : { 'content-type': type }), ...extra } }, res => {
        const s = res.statusCode ?? 0
        stats.byStatus[s] = (stats.byStatus[s] ?? 0) + 1
        if (s >= 500 && s !== 503) stats.unexpected5xx.push({ method, path, status: s })
        const rid = res.headers['x-request-id']
        if (typeof rid !== 'string' || !SAFE_REQUEST_ID.test(rid)) stats.badRequestIds.push({ method, path, status: s, id: typeof rid === 'string' ? rid.slice(0, 40) : undefined })
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
  if (process.env.FUZZ_REDIS_URL !== undefined) {
    const { Redis } = await import('ioredis')
    const redis = new Redis(process.env.FUZZ_REDIS_URL)
    for (const [id, value] of hostileValues()) await redis.set(`${process.env.FUZZ_KEY_PREFIX ?? ''}celery-task-meta-${id}`, value)
    redis.disconnect()
  }
  const base = process.env.FUZZ_URL ?? 'http://127.0.0.1:8080'
  const stats = await runFuzz(base, Number(process.env.FUZZ_REQUESTS ?? 10000), Number(process.env.FUZZ_SEED ?? 1), process.env.FUZZ_TOKEN === undefined ? {} : { authorization: `Bearer ${process.env.FUZZ_TOKEN}` })
  process.stdout.write(`${JSON.stringify(stats, null, 2)}\n`)
}
