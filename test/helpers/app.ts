/** buildTestApp(t, env): the real app against a real Redis, isolated by a random key prefix. */
import { randomBytes } from 'node:crypto'
import { Writable } from 'node:stream'
import { buildApp, type App } from '../../src/app.js'
import { loadConfig, REDACT_PATHS, type Config } from '../../src/config.js'

interface TapLike { teardown: (fn: () => unknown) => void }

export function testConfig (redisUrl: string, env: Record<string, string> = {}): Config {
  return loadConfig({
    RG_REDIS_URL: redisUrl,
    RG_REDIS_KEY_PREFIX: `t${randomBytes(4).toString('hex')}:`,
    RG_LOG_LEVEL: 'silent',
    RG_HTTP_PORT: '0',
    RG_AUTH_DISABLED: 'true',
    // Tests share two cores with many redis-servers (and a sibling test file): shedding on event-loop lag
    // would turn that load into stray 503s. limits.test.ts turns shedding on where it is the subject.
    RG_LOAD_MAX_EVENT_LOOP_DELAY_MS: '0',
    ...env
  })
}

export async function buildTestApp (t: TapLike, redisUrl: string, env: Record<string, string> = {}): Promise<App> {
  const app = await buildApp(testConfig(redisUrl, env))
  t.teardown(() => app.close())
  await app.ready()
  return app
}

/**
 * buildTestApp with every log line captured (trace level, the same redaction as server.ts): for tests that
 * grep the logs for secrets or count what an error burst logs.
 */
export async function buildLoggedApp (t: TapLike, redisUrl: string, env: Record<string, string> = {}): Promise<{ app: App, logs: string[] }> {
  const logs: string[] = []
  const stream = new Writable({
    write (chunk: Buffer, _enc, done) {
      logs.push(...chunk.toString().split('\n').filter(l => l !== ''))
      done()
    }
  })
  const app = await buildApp(testConfig(redisUrl, env), {
    logger: { level: 'trace', stream, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }
  })
  t.teardown(() => app.close())
  await app.ready()
  return { app, logs }
}
