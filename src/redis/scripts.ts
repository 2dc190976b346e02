/**
 * Loads every lua/<commandName>-<numKeys>.lua at boot and registers it with defineCommand; ioredis then
 * runs EVALSHA and falls back to EVAL on NOSCRIPT by itself. Types are declared below by declaration merging.
 */
import { readdirSync, readFileSync } from 'node:fs'
import type { Result } from 'ioredis'
import type { RedisClient } from './connect.js'

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** lua/storeResult-1.lua */
    storeResult(key: string, payload: string | Buffer, ttlSeconds: number): Result<[0 | 1 | 2, number | string], Context>
    /** lua/enqueueWebhook-3.lua: the entry id, or null when already claimed */
    enqueueWebhook(claim: string, queue: string, counters: string, ttlSeconds: number, counter: string, ...fields: string[]): Result<string | null, Context>
    /** lua/retryWebhook-2.lua */
    retryWebhook(queue: string, retries: string, group: string, id: string, dueMs: number, entry: string): Result<0 | 1, Context>
    /** lua/promoteWebhooks-2.lua */
    promoteWebhooks(retries: string, queue: string, nowMs: number, max: number): Result<number, Context>
    /** lua/finishWebhook-2.lua */
    finishWebhook(queue: string, counters: string, group: string, id: string, incr: string, decr: string): Result<0 | 1, Context>
    /** lua/updateWebhook-1.lua */
    updateWebhook(key: string, registrationId: string, onlyIfStatus: string, ...fieldsAndValues: string[]): Result<0 | 1, Context>
  }
}

const LUA_DIR = new URL('./lua/', import.meta.url)

export function defineScripts (client: RedisClient): void {
  for (const file of readdirSync(LUA_DIR)) {
    const m = /^(\w+)-(\d+)\.lua$/.exec(file)
    if (m === null) continue
    const [, name, numKeys] = m as unknown as [string, string, string]
    client.defineCommand(name, { numberOfKeys: Number(numKeys), lua: readFileSync(new URL(file, LUA_DIR), 'utf8') })
  }
}
