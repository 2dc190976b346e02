/**
 * Loads every lua/<commandName>-<numKeys>.lua at boot and registers it with defineCommand; ioredis then
 * runs EVALSHA and falls back to EVAL on NOSCRIPT by itself. `-n` instead of a number: the caller gives the
 * key count as the first argument (a script over any number of keys). Types are declared below by
 * declaration merging.
 */
import { readdirSync, readFileSync } from 'node:fs'
import type { Result } from 'ioredis'
import type { RedisClient } from './connect.js'

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** lua/readWithTtl-n.lua: value (null: none, or not a string) and PTTL (-3: not a string) per key */
    readWithTtlBuffer(numKeys: number, ...keys: string[]): Result<Array<Buffer | number | null>, Context>
    /** lua/storeResults-n.lua: for each key, its payload and TTL after the keys; two elements per key back */
    storeResults(numKeys: number, ...keysThenPayloadsAndTtls: Array<string | Buffer | number>): Result<Array<number | string>, Context>
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
    const m = /^(\w+)-(\d+|n)\.lua$/.exec(file)
    if (m === null) continue
    const [, name, numKeys] = m as unknown as [string, string, string]
    const lua = readFileSync(new URL(file, LUA_DIR), 'utf8')
    client.defineCommand(name, numKeys === 'n' ? { lua } : { numberOfKeys: Number(numKeys), lua })
  }
}
