import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { normalizeKeyPrefix } from '../../src/celery/keys.js'
import { ConfigError, loadConfig } from '../../src/config.js'
import { redisOptions } from '../../src/redis/connect.js'

t.test('defaults', async t => {
  const c = loadConfig({})
  t.equal(c.redis.topology, null, 'no Redis configured')
  t.equal(c.http.port, 8080)
  t.equal(c.results.ttlSeconds, 86400, 'Celery\'s result_expires default')
  t.equal(c.results.serializer, 'json')
  t.equal(c.redis.keyPrefix, '')
  t.ok(Object.isFrozen(c) && Object.isFrozen(c.redis))
})

t.test('seed-style REDIS_* variables when RG_REDIS_URL is unset', async t => {
  const c = loadConfig({ REDIS_HOST: 'redis.local', REDIS_PORT: '6380', REDIS_DB: '2', REDIS_PASSWORD: 's3cret', RG_AUTH_DISABLED: 'true' })
  t.same(c.redis.topology, { kind: 'standalone', host: 'redis.local', port: 6380, db: 2 })
  t.equal(c.redis.password, 's3cret')
  const both = loadConfig({ RG_REDIS_URL: 'redis://h:1/0', REDIS_HOST: 'ignored', REDIS_PASSWORD: 'ignored', RG_AUTH_DISABLED: 'true' })
  t.same(both.redis.topology, { kind: 'standalone', host: 'h', port: 1, db: 0 })
  t.equal(both.redis.password, null, 'REDIS_PASSWORD is not read when RG_REDIS_URL is set')
})

t.test('secrets from *_FILE', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'rg-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
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
  t.throws(() => loadConfig({ RG_REDIS_URL: 'http://user:hunter2@x' }), /RG_REDIS_URL: must start with redis:\/\/, rediss:\/\/, unix:\/\/, socket:\/\/ or sentinel:\/\//)
  t.throws(() => loadConfig({ RG_WAIT_DEFAULT_SECONDS: '90' }), /RG_WAIT_DEFAULT_SECONDS must not exceed/)
})

t.test('Celery global_keyprefix normalisation (5.3+)', async t => {
  t.equal(normalizeKeyPrefix(''), '')
  t.equal(normalizeKeyPrefix('app'), 'app_')
  for (const p of ['app:', 'app_', 'app-', 'app.']) t.equal(normalizeKeyPrefix(p), p)
  t.equal(loadConfig({ RG_REDIS_KEY_PREFIX: 'tenant' }).redis.keyPrefix, 'tenant_')
})

t.test('Celery result_backend URLs become ioredis options', async t => {
  const opts = (env: Record<string, string>) => redisOptions(loadConfig({ RG_AUTH_DISABLED: 'true', ...env }).redis, 'data')
  t.match(opts({ RG_REDIS_URL: 'redis://:p%40ss@10.0.0.1:6390/3' }), { host: '10.0.0.1', port: 6390, db: 3, password: 'p@ss' })
  t.match(opts({ RG_REDIS_URL: 'rediss://u:p@h:6380/0?ssl_cert_reqs=required' }), { username: 'u', tls: { rejectUnauthorized: true } })
  t.match(opts({ RG_REDIS_URL: 'rediss://h:6380/0?ssl_cert_reqs=CERT_NONE' }), { tls: { rejectUnauthorized: false } })
  t.match(opts({ RG_REDIS_URL: 'redis://h:6380/0', RG_REDIS_TLS: 'true', RG_REDIS_TLS_VERIFY: 'none' }), { tls: { rejectUnauthorized: false } })
  t.equal(opts({ RG_REDIS_URL: 'redis://h:6380/0' }).tls, undefined, 'plain text unless asked')
  t.match(opts({ RG_REDIS_URL: 'unix:///run/redis.sock?db=4' }), { path: '/run/redis.sock', db: 4 })
  t.match(opts({ RG_REDIS_URL: 'redis://:url@h/0', RG_REDIS_PASSWORD: 'env', RG_REDIS_USERNAME: 'acl' }), { password: 'env', username: 'acl' })
})

t.test('Sentinel and Cluster from Celery URLs or variables', async t => {
  const load = (env: Record<string, string>) => loadConfig({ RG_AUTH_DISABLED: 'true', ...env }).redis
  const celery = load({ RG_REDIS_URL: 'sentinel://:data-pw@s1:26379/2;sentinel://:data-pw@s2:26380;sentinel://s3', RG_REDIS_SENTINEL_MASTER: 'mymaster', RG_REDIS_SENTINEL_PASSWORD: 'sentinel-pw' })
  t.same(celery.topology, { kind: 'sentinel', masterName: 'mymaster', db: 2, sentinels: [{ host: 's1', port: 26379 }, { host: 's2', port: 26380 }, { host: 's3', port: 26379 }] })
  t.equal(celery.password, 'data-pw', 'the URL password is the data password, as in Celery')
  t.match(redisOptions(celery, 'data'), { name: 'mymaster', role: 'master', password: 'data-pw', sentinelPassword: 'sentinel-pw', db: 2, failoverDetector: true })
  t.match(load({ RG_REDIS_URL: 'sentinel://s1:26379?master_name=cache' }).topology, { kind: 'sentinel', masterName: 'cache' })
  t.match(load({ RG_REDIS_SENTINELS: 's1,[::1]:26380', RG_REDIS_SENTINEL_MASTER: 'm' }).topology, { kind: 'sentinel', sentinels: [{ host: 's1', port: 26379 }, { host: '::1', port: 26380 }] })
  t.throws(() => load({ RG_REDIS_URL: 'sentinel://s1:26379' }), /needs the master name: set RG_REDIS_SENTINEL_MASTER/)
  t.throws(() => load({ RG_REDIS_URL: 'sentinel://s1;redis://h' }), /every ;-separated part/)
  t.throws(() => load({ RG_REDIS_URL: 'redis://a;redis://b' }), /only sentinel:\/\/ URLs may list several/)
  t.same(load({ RG_REDIS_CLUSTER_NODES: 'n1:7000, n2:7001,n3' }).topology, { kind: 'cluster', nodes: [{ host: 'n1', port: 7000 }, { host: 'n2', port: 7001 }, { host: 'n3', port: 6379 }] })
  t.throws(() => load({ RG_REDIS_CLUSTER_NODES: 'n1:99999' }), /RG_REDIS_CLUSTER_NODES: "n1:99999" is not host:port/)
  t.throws(() => load({ RG_REDIS_CLUSTER_NODES: 'n1', RG_REDIS_URL: 'redis://h' }), /set only one of/)
})

t.test('TLS files are read and checked at startup, with the variable named', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'rg-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const load = (env: Record<string, string>) => loadConfig({ RG_AUTH_DISABLED: 'true', RG_REDIS_URL: 'rediss://h:6380/0', ...env }).redis
  t.throws(() => load({ RG_REDIS_TLS_CA_FILE: join(dir, 'missing.pem') }), /RG_REDIS_TLS_CA_FILE: cannot read .*missing.pem \(ENOENT\)/)
  writeFileSync(join(dir, 'junk.pem'), 'not a certificate')
  t.throws(() => load({ RG_REDIS_TLS_CA_FILE: join(dir, 'junk.pem') }), /RG_REDIS_TLS_CA_FILE: .*junk.pem holds no PEM certificate/)
  t.throws(() => load({ RG_REDIS_URL: 'rediss://h/0?ssl_ca_certs=' + join(dir, 'nope.pem') }), /RG_REDIS_TLS_CA_FILE: cannot read .*nope.pem/, 'Celery\'s ssl_ca_certs query parameter is honoured')
  t.throws(() => load({ RG_REDIS_URL: 'redis://h/0', RG_REDIS_TLS_CA_FILE: join(dir, 'junk.pem') }), /TLS is off: use a rediss:\/\/ URL or RG_REDIS_TLS=true/)
  t.throws(() => load({ RG_REDIS_TLS_KEY_FILE: join(dir, 'junk.pem') }), /RG_REDIS_TLS_KEY_FILE: .* holds no readable/)
})

t.test('API tokens: parsed, validated, never echoed; required once a real Redis is configured', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'rg-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
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
