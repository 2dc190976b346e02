/**
 * A real gateway process for the tracing tests: the tracing preload (as npm start runs it), a real
 * redis-server, API tokens, and a module log (module-log.mjs) telling which modules the process imported.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import { freePort } from '../../src/redis/spawn.js'
import { startRedis } from './redis-server.js'
import { runServer } from './server.js'

const MODULE_LOG = new URL('./module-log.mjs', import.meta.url).href
export const TOKEN = `tok-${randomBytes(12).toString('hex')}`
const AUTH = { RG_AUTH_TOKENS: JSON.stringify([{ name: 'tests', token: TOKEN, scopes: ['read', 'write'] }]) }
export const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }

/** A gateway whose every imported module URL is appended to a file (module-log.mjs). */
export async function tracedGateway (t: Test, env: Record<string, string>) {
  const redis = await startRedis(t)
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'rg-modules-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const moduleLog = join(dir, 'modules.txt')
  writeFileSync(moduleLog, '')
  const srv = runServer(t, { RG_HTTP_PORT: String(port), RG_REDIS_URL: redis.url, RG_LOG_LEVEL: 'info', MODULE_LOG_FILE: moduleLog, ...AUTH, ...env }, [], ['--import', MODULE_LOG])
  await srv.listening()
  return { srv, base: `http://127.0.0.1:${port}`, modules: () => readFileSync(moduleLog, 'utf8').split('\n').filter(l => l !== '') }
}

export const traceparent = () => {
  const traceId = randomBytes(16).toString('hex')
  const parentId = randomBytes(8).toString('hex')
  return { traceId, parentId, header: `00-${traceId}-${parentId}-01` }
}

/** Log lines (pino JSON) of the gateway's output. */
export function logLines (output: string): Array<Record<string, unknown>> {
  return output.split('\n').flatMap(l => { try { return [JSON.parse(l) as Record<string, unknown>] } catch { return [] } })
}

export const otelModules = (modules: string[]): string[] => modules.filter(u => /@opentelemetry|@fastify\/otel|import-in-the-middle|require-in-the-middle/.test(u))
