/**
 * The fetch routes' reads (a key's stored bytes and its remaining TTL), batched (key-batch.ts): every read of
 * one turn of the event loop in one call of lua/readWithTtl-n.lua, where a GET and a TTL per request were two
 * commands each. One key's WRONGTYPE or ACL refusal is that key's answer, never the whole call's.
 */
import { KeyBatcher, refusedInScript } from './key-batch.js'
import type { RedisClient } from './connect.js'

export { MAX_ITEMS_PER_CALL as MAX_KEYS_PER_CALL } from './key-batch.js'

/** A key's stored bytes (null: no key) and PTTL in ms (-1: no expiry), or a key holding no string. */
export type StoredRead = { value: Buffer | null, pttlMs: number } | { wrongType: true }

/** lua/readWithTtl-n.lua's PTTL for a key that holds a list, hash, set, … (its GET was refused: WRONGTYPE). */
const NOT_A_STRING = -3

async function readKeys (client: RedisClient, keys: readonly string[]): Promise<Array<StoredRead | Error>> {
  const reply = await client.readWithTtlBuffer(keys.length, ...keys)
  return keys.map((_key, i) => {
    const value = reply[2 * i]
    const pttlMs = reply[2 * i + 1]
    if (pttlMs === NOT_A_STRING) return { wrongType: true }
    if (Buffer.isBuffer(pttlMs)) return refusedInScript(pttlMs.toString(), 'get')
    return { value: Buffer.isBuffer(value) ? value : null, pttlMs: typeof pttlMs === 'number' ? pttlMs : -2 }
  })
}

export class ReadBatcher {
  readonly #batch: KeyBatcher<string, StoredRead>

  constructor (client: RedisClient) {
    this.#batch = new KeyBatcher(client, { keyOf: key => key, send: readKeys, command: 'get' })
  }

  /** The key's bytes and PTTL, read with the other reads of this turn of the event loop. */
  read (key: string): Promise<StoredRead> {
    return this.#batch.run(key)
  }
}
