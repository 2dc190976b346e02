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
