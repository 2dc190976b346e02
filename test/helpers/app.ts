/** buildTestApp(t, env): the real app against a real Redis, isolated by a random key prefix. */
import { randomBytes } from 'node:crypto'
import { buildApp, type App } from '../../src/app.js'
import { loadConfig, type Config } from '../../src/config.js'

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
