/**
 * For the answer cache's tests: writes from another process (redis-cli), the moment an invalidation of a key
 * reached the gateway (observed on the cache itself), Redis's own command counts, the cache's metrics.
 */
import { execFile } from 'node:child_process'
import type { Redis } from 'ioredis'
import type { App } from '../../src/app.js'
import { until } from './until.js'

/** Runs redis-cli (a process of its own) against the test server; resolves with its output once it exited. */
export function redisCli (port: number, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], (err, stdout) => {
      if (err !== null && (err as NodeJS.ErrnoException).code === 'ENOENT') reject(new Error('redis-cli not found: install redis-tools (apt-get install -y redis-tools)'))
      else if (err !== null) reject(err)
      else resolve(stdout.trim())
    })
  })
}

/**
 * Records when each key's invalidation was processed by the gateway (performance.now()), by wrapping the
 * cache's own entry point for Redis's invalidation messages; `arrived(key, after)` waits for one later than `after`.
 */
export function watchInvalidations (app: App): { at: Map<string, number[]>, flushes: number[], arrived: (key: string, after: number) => Promise<void> } {
  const at = new Map<string, number[]>()
  const flushes: number[] = []
  const cache = app.answers
  const many = cache.invalidateMany.bind(cache)
  const flush = cache.flush.bind(cache)
  cache.invalidateMany = (keys: string[]) => {
    many(keys)
    const now = performance.now()
    for (const k of keys) {
      const list = at.get(k) ?? []
      list.push(now)
      at.set(k, list)
    }
  }
  cache.flush = () => {
    flush()
    flushes.push(performance.now())
  }
  const arrived = (key: string, after: number): Promise<void> =>
    until(() => (at.get(key) ?? []).some(t => t > after) || flushes.some(t => t > after), `the invalidation of ${key}`)
  return { at, flushes, arrived }
}

/** Calls of one Redis command so far (INFO commandstats). */
export async function commandCalls (admin: Redis, command: string): Promise<number> {
  const info = await admin.info('commandstats')
  return Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(info)?.[1] ?? 0)
}

/** One unlabelled series of the gateway's /metrics. */
export async function metric (app: App, name: string): Promise<number> {
  const body = (await app.inject('/metrics')).body
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(body)?.[1] ?? NaN)
}

/** Resolves once the cache is live (tracking enabled); a first request connects the data connection. */
export async function cacheLive (app: App): Promise<void> {
  await app.inject('/readyz')
  await until(() => app.answers.live, 'the answer cache to go live')
}
