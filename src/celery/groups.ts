/**
 * Group and chord progress: reads `celery-taskset-meta-<id>` as GroupResult.save() writes it, the state of
 * each child, and Celery's chord counters (`.s` size, `.t` adjustment, `.j` parts done) while a chord runs.
 * @see celery/backends/base.py (_save_group, _restore_group), celery/backends/redis.py (on_chord_part_return)
 */
import { withDeadline } from '../redis/call.js'
import { classifyRedisError } from '../redis/errors.js'
import { decodeDocument, DecodeError, inflateStored } from './codec.js'
import { chordKeys, groupKey } from './keys.js'
import { childIds } from './meta.js'
import { notADocument, type ResultStore } from './result-store.js'
import type { GroupView } from '../schemas/group.js'

export interface ChildState { taskId: string, state: string, ready: boolean }

/** Counts and the overall verdict from each child's state. */
export function summarize (groupId: string, saved: boolean, children: ChildState[], chord: GroupView['chord']): GroupView {
  const states: Record<string, number> = {}
  for (const c of children) states[c.state] = (states[c.state] ?? 0) + 1
  const completed = states.SUCCESS ?? 0
  const failed = states.FAILURE ?? 0
  const ready = children.filter(c => c.ready).length
  return {
    groupId,
    saved,
    total: children.length,
    completed,
    failed,
    ready,
    allReady: children.length > 0 && ready === children.length,
    successful: children.length > 0 && completed === children.length,
    states,
    children,
    chord
  }
}

export class GroupReader {
  readonly #store: ResultStore

  constructor (store: ResultStore) {
    this.#store = store
  }

  /**
   * The child task ids of a saved group, or null when the group was not saved (or has expired). A sorted set
   * or list at the key is not a saved group but Celery's own chord bookkeeping: `celery-taskset-meta-<G>.j`
   * holds the finished parts of chord G while it runs (result_chord_ordered), so group id "G.j" reads as
   * "no saved group" (404) and G's progress is under /v1/groups/G. Any other non-string value is 422.
   */
  async childIds (groupId: string): Promise<string[] | null> {
    const key = groupKey(this.#store.options.keyPrefix, groupId)
    const redis = this.#store.redis
    let stored: Buffer | null
    try {
      stored = await this.#store.call(() => redis.getBuffer(key), true)
    } catch (err) {
      if (classifyRedisError(err) !== 'wrongtype') throw err
      const type = await this.#store.call(() => redis.type(key), true)
      if (type === 'zset' || type === 'list') return null
      throw notADocument()
    }
    if (stored === null) return null
    // Compressed values inflate off the event loop, capped, as results do (ResultStore.getRaw).
    const raw = await inflateStored(stored, this.#store.options.maxInflatedBytes)
    const { doc } = decodeDocument(raw, this.#store.options.maxInflatedBytes)
    const result = (doc as { result?: unknown } | null)?.result
    if (!Array.isArray(result)) throw new DecodeError('json', 'not a Celery group document (no "result" tuple)')
    return childIds([result])
  }

  /** Chord progress while Celery's counters exist (they are deleted when the chord body runs). */
  async chord (groupId: string): Promise<GroupView['chord']> {
    const keys = chordKeys(this.#store.options.keyPrefix, groupId)
    // `.j` is a sorted set or a list depending on result_chord_ordered: the other command fails WRONGTYPE.
    // Separate commands, not one pipeline: in a Cluster the three keys live in different slots
    // (auto-pipelining still sends them in one round trip per node).
    const redis = this.#store.redis
    const settle = async (p: Promise<string | number | null>): Promise<number | null> =>
      p.then(v => v === null ? null : Number(v), (err: unknown) => {
        if (err instanceof Error && err.message.startsWith('WRONGTYPE')) return null
        throw err
      })
    const res = await this.#store.call(() => Promise.all([
      settle(redis.get(keys.size)), settle(redis.get(keys.sizeDiff)), settle(redis.zcard(keys.parts)), settle(redis.llen(keys.parts))
    ]), true)
    const value = (i: number): number | null => res[i] ?? null
    const size = value(0)
    if (size === null) return null
    return { total: size + (value(1) ?? 0), completed: Math.max(value(2) ?? 0, value(3) ?? 0) }
  }

  /** Current progress, or null when neither a saved group nor chord counters exist; one deadline for it all. */
  read (groupId: string): Promise<GroupView | null> {
    return withDeadline(this.#read(groupId), this.#store.options.deadlineMs)
  }

  async #read (groupId: string): Promise<GroupView | null> {
    const [ids, chord] = await Promise.all([this.childIds(groupId), this.chord(groupId)])
    if (ids === null && chord === null) return null
    const raws = ids === null || ids.length === 0 ? [] : await this.#store.getRawMany(ids)
    const children = (ids ?? []).map((taskId, i) => {
      const raw = raws[i]
      if (raw === null || raw === undefined) return { taskId, state: 'PENDING', ready: false }
      if (raw instanceof DecodeError) throw raw
      const view = this.#store.decodeView(raw, taskId)
      return { taskId, state: view.state, ready: view.ready }
    })
    return summarize(groupId, ids !== null, children, chord)
  }
}
