/**
 * One predicate says which requests are public (src/plugins/public-routes.ts): the docs UI, probes and
 * /openapi.json need no token and are never rate-limited; any other route is both, whatever its path looks
 * like. Before, the rate limiter had its own copy of the rule, `url.startsWith('/docs')`, which also exempted
 * a route such as /docsearch.
 */
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { testConfig } from '../helpers/app.js'
import { startRedis } from '../helpers/redis-server.js'

const TOKEN = 'r'.repeat(24)

t.test('the docs UI is public and unlimited; a route that only starts with "/docs" is neither', async t => {
  const redis = await startRedis(t)
  const app = await buildApp(testConfig(redis.url, {
    RG_AUTH_DISABLED: 'false',
    RG_AUTH_TOKENS: JSON.stringify([{ name: 'reader', token: TOKEN, scopes: ['read'] }]),
    RG_RATE_LIMIT_PER_MINUTE: '2'
  }))
  t.teardown(() => app.close())
  app.get('/docsearch', { config: { scope: 'read' } }, async () => ({ found: [] }))
  await app.ready()

  for (let i = 0; i < 4; i++) {
    for (const url of ['/docs', '/docs/static/index.html', '/openapi.json', '/healthz']) {
      const res = await app.inject(url)
      t.ok(res.statusCode < 400, `${url} #${i + 1}: ${res.statusCode} without a token, never 429`)
    }
  }
  t.equal((await app.inject('/docsearch')).statusCode, 401, '/docsearch needs a token')
  const search = () => app.inject({ url: '/docsearch', headers: { authorization: `Bearer ${TOKEN}` } })
  t.equal((await search()).statusCode, 200)
  t.equal((await search()).statusCode, 200)
  const limited = await search()
  t.equal(limited.statusCode, 429, `/docsearch is rate-limited like any other route (got ${limited.statusCode})`)
  t.match(limited.json(), { code: 'RG_RATE_LIMITED' })
})
