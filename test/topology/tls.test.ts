import t, { type Test } from 'tap'
import { loadConfig } from '../../src/config.js'
import { preflight } from '../../src/redis/preflight.js'
import { freePort, spawnRedis } from '../../src/redis/spawn.js'
import { buildTestApp } from '../helpers/app.js'
import { startRedis } from '../helpers/redis-server.js'
import { runServer } from '../helpers/server.js'
import { makeCerts, tlsServerArgs, type TestCerts } from '../helpers/tls.js'

const json = { 'content-type': 'application/json' }

async function tlsRedis (t: Test, certs: TestCerts, clientAuth: boolean) {
  const port = await freePort()
  // Both loopbacks ("-" = only if this machine has IPv6): `localhost` resolves to ::1 first on many machines.
  const server = await spawnRedis('redis-server', ['--bind', '127.0.0.1', '-::1', '--save', '', '--appendonly', 'no', ...tlsServerArgs(certs, port, clientAuth)], port)
  t.teardown(() => server.stop())
  return server
}

/** Store, fetch and a woken wait: the data and the subscriber connection both work over TLS. */
async function roundTrip (t: Test, url: string, env: Record<string, string>) {
  const app = await buildTestApp(t, url, env)
  const waiting = app.inject('/v1/results/tls-w/wait?timeoutSeconds=20')
  t.equal((await app.inject('/readyz')).statusCode, 200, 'ready over TLS')
  t.equal((await app.inject({ method: 'PUT', url: '/v1/results/tls-1', headers: json, payload: '{"state":"SUCCESS","result":42}' })).statusCode, 200)
  t.match((await app.inject('/v1/results/tls-1')).json(), { state: 'SUCCESS', result: 42 })
  await app.inject({ method: 'PUT', url: '/v1/results/tls-w', headers: json, payload: '{"state":"SUCCESS","result":"woken"}' })
  t.match((await waiting).json(), { timedOut: false, result: { result: 'woken' } }, 'the subscriber connection is TLS too')
}

t.test('server-only TLS with a private CA, checked against the server name', async t => {
  const certs = makeCerts(t)
  const server = await tlsRedis(t, certs, false)
  await roundTrip(t, `rediss://127.0.0.1:${server.port}/0?ssl_cert_reqs=required&ssl_ca_certs=${certs.ca}`, {})
  await roundTrip(t, `rediss://localhost:${server.port}/0`, { RG_REDIS_TLS_CA_FILE: certs.ca })
})

t.test('mutual TLS: the client certificate is presented', async t => {
  const certs = makeCerts(t)
  const server = await tlsRedis(t, certs, true)
  const url = `rediss://127.0.0.1:${server.port}/0`
  await roundTrip(t, url, { RG_REDIS_TLS_CA_FILE: certs.ca, RG_REDIS_TLS_CERT_FILE: certs.clientCert, RG_REDIS_TLS_KEY_FILE: certs.clientKey })
  const withoutCert = await preflight(loadConfig({ RG_REDIS_URL: url, RG_REDIS_TLS_CA_FILE: certs.ca, RG_AUTH_DISABLED: 'true' }).redis)
  t.match(withoutCert, { message: /set RG_REDIS_TLS_CERT_FILE and RG_REDIS_TLS_KEY_FILE/ }, 'no client certificate: the message says which variables')
  t.not(withoutCert.status, 'ok')
})

t.test('startup refuses what retrying never fixes, with the fix in the message', async t => {
  const certs = makeCerts(t)
  const server = await tlsRedis(t, certs, false)
  const plain = await startRedis(t, ['--requirepass', 'the-right-one'])
  const check = (env: Record<string, string>) => preflight(loadConfig({ RG_AUTH_DISABLED: 'true', RG_REDIS_CONNECT_TIMEOUT_MS: '1000', ...env }).redis)
  t.match(await check({ RG_REDIS_URL: `rediss://127.0.0.1:${server.port}/0`, RG_REDIS_TLS_CA_FILE: certs.otherCa }),
    { status: 'fatal', message: /TLS: the server certificate is signed by a CA that is not trusted .*RG_REDIS_TLS_CA_FILE/ }, 'wrong CA')
  t.match(await check({ RG_REDIS_URL: `rediss://127.0.0.1:${server.port}/0`, RG_REDIS_TLS_CA_FILE: certs.ca, RG_REDIS_TLS_SERVERNAME: 'redis.example' }),
    { status: 'fatal', message: /does not carry the host name .*RG_REDIS_TLS_SERVERNAME/ }, 'wrong server name')
  t.match(await check({ RG_REDIS_URL: `rediss://127.0.0.1:${plain.port}/0`, RG_REDIS_TLS_CA_FILE: certs.ca }),
    { status: 'fatal', message: /answers in plain text, not TLS/ }, 'a plain-text server behind a TLS URL')
  t.match(await check({ RG_REDIS_URL: `rediss://127.0.0.1:${server.port}/0`, RG_REDIS_TLS_VERIFY: 'none' }), { status: 'ok' }, 'verification off: connects (testing only)')
  t.match(await check({ RG_REDIS_URL: `redis://:nope@127.0.0.1:${plain.port}/0` }), { status: 'fatal', message: /authentication failed/ }, 'a password the server does not expect')
  t.match(await check({ RG_REDIS_URL: `redis://127.0.0.1:${await freePort()}/0` }), { status: 'unreachable', message: /ECONNREFUSED/ }, 'nothing listening is not fatal: readiness reports it')

  const run = runServer(t, { RG_REDIS_URL: `rediss://127.0.0.1:${server.port}/0`, RG_REDIS_TLS_CA_FILE: certs.otherCa, RG_AUTH_DISABLED: 'true', RG_HTTP_PORT: '0' })
  t.equal(await run.exited, 1, 'the service exits 1')
  t.match(run.output(), /result-gateway: cannot use Redis \(standalone 127\.0\.0\.1:\d+\/0\): TLS: the server certificate is signed by a CA that is not trusted/)
  const missing = runServer(t, { RG_REDIS_URL: `rediss://127.0.0.1:${server.port}/0`, RG_REDIS_TLS_CA_FILE: '/nonexistent/ca.pem', RG_AUTH_DISABLED: 'true' })
  t.equal(await missing.exited, 1)
  t.match(missing.output(), /RG_REDIS_TLS_CA_FILE: cannot read \/nonexistent\/ca.pem \(ENOENT\)/, 'a bad CA path is a configuration error')
})
