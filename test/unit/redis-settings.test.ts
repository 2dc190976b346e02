/**
 * redis/settings.ts: where Redis is, the credentials and TLS, resolved from the RG_REDIS_* variables (by
 * their env names) with every problem collected. Through loadConfig these are also covered by config.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { resolveRedisLocation, type RedisEnv } from '../../src/redis/settings.js'

const resolve = (env: Partial<RedisEnv>): { location: ReturnType<typeof resolveRedisLocation>, problems: string[] } => {
  const problems: string[] = []
  const location = resolveRedisLocation({ RG_REDIS_TLS: false, RG_REDIS_TLS_VERIFY: 'required', ...env }, problems)
  return { location, problems }
}

t.test('one source of topology; nothing configured is null (the throwaway dev Redis)', async t => {
  t.match(resolve({}), { location: { topology: null, tls: null, username: null, password: null }, problems: [] })
  t.match(resolve({ REDIS_HOST: 'h', REDIS_PASSWORD: 'seed' }).location, { topology: { kind: 'standalone', host: 'h', port: 6379, db: 0 }, password: 'seed' })
  t.equal(resolve({ RG_REDIS_URL: 'redis://h/0', REDIS_PASSWORD: 'seed' }).location.password, null, 'seed-style only without a URL')
  t.match(resolve({ RG_REDIS_URL: 'redis://u:url@h/1', RG_REDIS_PASSWORD: 'env' }).location, { username: 'u', password: 'env', topology: { db: 1 } })
  t.match(resolve({ RG_REDIS_CLUSTER_NODES: 'a:7000,b' }).location.topology, { kind: 'cluster', nodes: [{ host: 'a', port: 7000 }, { host: 'b', port: 6379 }] })
  t.same(resolve({ RG_REDIS_SENTINELS: 's1' }).problems, ['Sentinel mode needs RG_REDIS_SENTINEL_MASTER (the master name)'])
  t.same(resolve({ RG_REDIS_URL: 'redis://h', RG_REDIS_CLUSTER_NODES: 'a' }).problems, ['set only one of RG_REDIS_URL, RG_REDIS_SENTINELS and RG_REDIS_CLUSTER_NODES'])
  t.match(resolve({ RG_REDIS_URL: 'ftp://h' }).problems, [/^RG_REDIS_URL: /], 'a URL problem names the variable')
})

t.test('TLS: on from rediss:// or RG_REDIS_TLS; files read and checked; contradictions named', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'rg-settings-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'junk.pem'), 'not a certificate')
  t.match(resolve({ RG_REDIS_URL: 'rediss://h/0' }).location.tls, { rejectUnauthorized: true })
  t.match(resolve({ RG_REDIS_URL: 'redis://h/0', RG_REDIS_TLS: true, RG_REDIS_TLS_VERIFY: 'none', RG_REDIS_TLS_SERVERNAME: 'n' }).location.tls, { rejectUnauthorized: false, servername: 'n' })
  t.match(resolve({ RG_REDIS_URL: 'rediss://h/0', RG_REDIS_TLS_CA_FILE: join(dir, 'junk.pem') }).problems, [/RG_REDIS_TLS_CA_FILE: .*junk\.pem holds no PEM certificate/])
  t.match(resolve({ RG_REDIS_URL: 'rediss://h/0', RG_REDIS_TLS_KEY_FILE: join(dir, 'missing.pem') }).problems, [/RG_REDIS_TLS_KEY_FILE: cannot read .*\(ENOENT\)/])
  t.same(resolve({ RG_REDIS_URL: 'redis://h/0', RG_REDIS_TLS_CA_FILE: join(dir, 'junk.pem') }).problems, ['RG_REDIS_TLS_*_FILE is set but TLS is off: use a rediss:// URL or RG_REDIS_TLS=true'])
  t.same(resolve({ RG_REDIS_URL: 'unix:///run/r.sock', RG_REDIS_TLS: true }).problems, ['TLS is not used over a unix socket: unset RG_REDIS_TLS'])
})
