/**
 * nosniff on every answer; helmet's whole set (CSP, frame options, HSTS …) on the docs UI only — a JSON API
 * answer is never rendered by a browser, and the twelve headers were a measurable share of each request.
 */
import t from 'tap'
import { buildTestApp } from '../helpers/app.js'
import { startRedis } from '../helpers/redis-server.js'

const DOCS_ONLY = ['content-security-policy', 'x-frame-options', 'strict-transport-security', 'cross-origin-opener-policy', 'cross-origin-resource-policy', 'referrer-policy']

t.test('API answers carry nosniff and none of the document headers; /docs keeps them all', async t => {
  const redis = await startRedis(t)
  const app = await buildTestApp(t, redis.url)
  await app.inject({ method: 'PUT', url: '/v1/results/h1', headers: { 'content-type': 'application/json' }, payload: { state: 'SUCCESS', result: 1 } })
  const api = {
    fetch: await app.inject('/v1/results/h1'),
    wait: await app.inject('/v1/results/h1/wait?timeoutSeconds=0'),
    'problem 404': await app.inject('/v1/results/nope'),
    'unknown route': await app.inject('/no/such/route'),
    'validation 400': await app.inject('/v1/results/h1/wait?timeoutSeconds=x'),
    'openapi.json': await app.inject('/openapi.json'),
    healthz: await app.inject('/healthz')
  }
  for (const [name, res] of Object.entries(api)) {
    t.equal(res.headers['x-content-type-options'], 'nosniff', `${name}: nosniff`)
    t.same(DOCS_ONLY.filter(h => res.headers[h] !== undefined), [], `${name}: no document-only header`)
  }
  t.equal(api['problem 404'].statusCode, 404)
  for (const url of ['/docs', '/docs/static/index.html']) {
    const page = await app.inject(url)
    t.ok(page.statusCode < 400, `${url}: served`)
    t.equal(page.headers['x-content-type-options'], 'nosniff', `${url}: nosniff`)
    t.match(page.headers['x-frame-options'], /SAMEORIGIN/, `${url}: frame options`)
    t.match(page.headers['content-security-policy'], /default-src 'self'/, `${url}: CSP`)
    t.ok(page.headers['strict-transport-security'], `${url}: HSTS`)
  }
})
