import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { ConfigError, loadConfig, normalizeKeyPrefix } from '../../src/config.js'
import { redisOptions } from '../../src/redis/connect.js'

t.test('defaults', async t => {
  const c = loadConfig({})
  t.equal(c.redis.url, null, 'no Redis configured')
  t.equal(c.http.port, 8080)
  t.equal(c.results.ttlSeconds, 86400, 'Celery\'s result_expires default')
  t.equal(c.results.serializer, 'json')
  t.equal(c.redis.keyPrefix, '')
  t.ok(Object.isFrozen(c) && Object.isFrozen(c.redis))
})

t.test('seed-style REDIS_* variables when RG_REDIS_URL is unset', async t => {
  const c = loadConfig({ REDIS_HOST: 'redis.local', REDIS_PORT: '6380', REDIS_DB: '2', REDIS_PASSWORD: 's3cret', RG_AUTH_DISABLED: 'true' })
  t.equal(c.redis.url, 'redis://redis.local:6380/2')
  t.equal(c.redis.password, 's3cret')
  const both = loadConfig({ RG_REDIS_URL: 'redis://h:1/0', REDIS_HOST: 'ignored', REDIS_PASSWORD: 'ignored', RG_AUTH_DISABLED: 'true' })
  t.equal(both.redis.url, 'redis://h:1/0')
  t.equal(both.redis.password, null, 'REDIS_PASSWORD is not read when RG_REDIS_URL is set')
})

t.test('secrets from *_FILE', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'rg-'))
  writeFileSync(join(dir, 'pw'), 'from-file\n')
  const c = loadConfig({ RG_REDIS_URL: 'redis://h:1/0', RG_REDIS_PASSWORD_FILE: join(dir, 'pw'), RG_AUTH_DISABLED: 'true' })
  t.equal(c.redis.password, 'from-file', 'trailing newline dropped')
  t.throws(() => loadConfig({ RG_REDIS_PASSWORD_FILE: join(dir, 'missing') }), /RG_REDIS_PASSWORD_FILE: cannot read/)
})

t.test('one error lists every problem, without echoing secrets', async t => {
  try {
    loadConfig({ RG_HTTP_PORT: 'eighty', RG_RESULT_SERIALIZER: 'pickle', RG_LOG_LEVEL: 'loud', RG_REDIS_URL: 'http://user:hunter2@x', RG_WAIT_DEFAULT_SECONDS: '90' })
    t.fail('should throw')
  } catch (err) {
    t.ok(err instanceof ConfigError)
    const msg = (err as ConfigError).message
    for (const name of ['RG_HTTP_PORT', 'RG_RESULT_SERIALIZER', 'RG_LOG_LEVEL']) t.match(msg, name)
    t.notMatch(msg, 'hunter2')
  }
  t.throws(() => loadConfig({ RG_REDIS_URL: 'http://user:hunter2@x' }), /RG_REDIS_URL: must start with/)
  t.throws(() => loadConfig({ RG_WAIT_DEFAULT_SECONDS: '90' }), /RG_WAIT_DEFAULT_SECONDS must not exceed/)
})

t.test('Celery global_keyprefix normalisation (5.3+)', async t => {
  t.equal(normalizeKeyPrefix(''), '')
  t.equal(normalizeKeyPrefix('app'), 'app_')
  for (const p of ['app:', 'app_', 'app-', 'app.']) t.equal(normalizeKeyPrefix(p), p)
  t.equal(loadConfig({ RG_REDIS_KEY_PREFIX: 'tenant' }).redis.keyPrefix, 'tenant_')
})

t.test('Celery result_backend URLs become ioredis options', async t => {
  const base = loadConfig({}).redis
  const o = redisOptions({ ...base, url: 'redis://:p%40ss@10.0.0.1:6390/3' }, 'data')
  t.match(o, { host: '10.0.0.1', port: 6390, db: 3, password: 'p@ss' })
  const tls = redisOptions({ ...base, url: 'rediss://u:p@h:6380/0?ssl_cert_reqs=required' }, 'data')
  t.match(tls, { username: 'u', tls: { rejectUnauthorized: true } })
  const none = redisOptions({ ...base, url: 'rediss://h:6380/0?ssl_cert_reqs=CERT_NONE' }, 'data')
  t.match(none, { tls: { rejectUnauthorized: false } })
  const sock = redisOptions({ ...base, url: 'unix:///run/redis.sock?db=4' }, 'data')
  t.match(sock, { path: '/run/redis.sock', db: 4 })
  const override = redisOptions({ ...base, url: 'redis://:url@h/0', password: 'env', username: 'acl' }, 'data')
  t.match(override, { password: 'env', username: 'acl' })
})

t.test('API tokens: parsed, validated, never echoed; required once a real Redis is configured', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'rg-'))
  const tokens = [{ name: 'svc-a', token: 'a'.repeat(32), scopes: ['read'], keyPrefix: 'app1' }, { name: 'ops', token: 'b'.repeat(32), scopes: ['admin'] }]
  writeFileSync(join(dir, 'tokens.json'), JSON.stringify(tokens))
  const c = loadConfig({ RG_REDIS_URL: 'redis://h:1/0', RG_AUTH_TOKENS_FILE: join(dir, 'tokens.json') })
  t.equal(c.auth.tokens.length, 2)
  t.equal(c.auth.tokens[0]?.keyPrefix, 'app1_', 'a token prefix is normalised like global_keyprefix')
  t.equal(c.auth.disabled, false)
  t.throws(() => loadConfig({ RG_REDIS_URL: 'redis://h:1/0' }), /RG_AUTH_TOKENS is unset.*RG_AUTH_DISABLED=true/)
  t.equal(loadConfig({}).auth.tokens.length, 0, 'the throwaway dev Redis needs no tokens')
  const bad: Array<[string, string]> = [
    ['not JSON', 'secret-token-value'],
    ['short token', JSON.stringify([{ name: 'x', token: 'short', scopes: ['read'] }])],
    ['unknown scope', JSON.stringify([{ name: 'x', token: 'c'.repeat(20), scopes: ['root'] }])],
    ['duplicate name', JSON.stringify([{ name: 'x', token: 'd'.repeat(20), scopes: ['read'] }, { name: 'x', token: 'e'.repeat(20), scopes: ['read'] }])]
  ]
  for (const [what, value] of bad) {
    try {
      loadConfig({ RG_REDIS_URL: 'redis://h:1/0', RG_AUTH_TOKENS: value })
      t.fail(what)
    } catch (err) {
      t.match((err as Error).message, /RG_AUTH_TOKENS/, what)
      t.notMatch((err as Error).message, /secret-token-value|ccccc|ddddd|short/, `${what}: the value is not echoed`)
    }
  }
})
