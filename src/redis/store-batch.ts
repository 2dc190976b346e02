/**
 * Stores, batched (key-batch.ts): every store of one turn of the event loop in one call of
 * lua/storeResults-n.lua, each key guarded and published on its own as before (SUCCESS is final; a retried
 * SUCCESS is recognised). One key's refusal by Redis is that store's answer, never the others'.
 */
import { KeyBatcher, refusedInScript } from './key-batch.js'
import type { RedisClient } from './connect.js'

/** One store: the key (also its channel), the document's exact bytes, its TTL in seconds (0: none). */
export interface StoreItem { key: string, payload: Buffer | string, ttlSeconds: number }
/** The script's reply for one key: [1, subscribers] stored, [0, 'SUCCESS'] refused, [2, ttl] already stored. */
export type StoreReply = readonly [0 | 1 | 2, number | string]

/** Sends one call of the store script for `items` (all in one slot, when in a Cluster). */
export async function storeItems (client: RedisClient, items: readonly StoreItem[]): Promise<Array<StoreReply | Error>> {
  const args: Array<string | Buffer | number> = items.map(i => i.key)
  for (const i of items) args.push(i.payload, i.ttlSeconds)
  const reply = await client.storeResults(items.length, ...args)
  return items.map((_item, i) => {
    const code = Number(reply[2 * i])
    const info = reply[2 * i + 1] ?? ''
    // The script's own refusals come back as text; named as the script (Redis's text names what it refused).
    if (code === -1) return refusedInScript(String(info), 'evalsha')
    return [code as 0 | 1 | 2, typeof info === 'number' ? info : String(info)]
  })
}

export class StoreBatcher {
  readonly #batch: KeyBatcher<StoreItem, StoreReply>

  constructor (client: RedisClient) {
    this.#batch = new KeyBatcher(client, { keyOf: i => i.key, send: storeItems, command: 'evalsha' })
  }

  /** Stores with the other stores of this turn of the event loop. */
  store (item: StoreItem): Promise<StoreReply> {
    return this.#batch.run(item)
  }
}
