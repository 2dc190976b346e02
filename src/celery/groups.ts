/**
 * Group and chord progress: reads `celery-taskset-meta-<id>` as GroupResult.save() writes it, the state of
 * each child, and Celery's chord counters (`.s` size, `.t` adjustment, `.j` parts done) while a chord runs.
 * @see celery/backends/base.py (_save_group, _restore_group), celery/backends/redis.py (on_chord_part_return)
 */
import { withDeadline } from '../redis/deadlines.js'
import { decodeDocument, DecodeError } from './codec.js'
import { childIds } from './meta.js'
import type { ResultStore } from './result-store.js'
import type { ResultViews } from './view.js'
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
  readonly #views: ResultViews

  constructor (store: ResultStore, views: ResultViews) {
    this.#store = store
    this.#views = views
  }

  /**
   * The child task ids of a saved group, or null when the group was not saved (or has expired, or the id names
   * Celery's chord bookkeeping: see ResultStore.readGroupDocument, and G's progress is under /v1/groups/G).
   */
  async childIds (groupId: string): Promise<string[] | null> {
    const document = await this.#store.readGroupDocument(groupId)
    if (document === null) return null
    const { doc } = decodeDocument(document, this.#views.maxInflatedBytes)
    const result = (doc as { result?: unknown } | null)?.result
    if (!Array.isArray(result)) throw new DecodeError('json', 'not a Celery group document (no "result" tuple)')
    return childIds([result])
  }

  /** Chord progress while Celery's counters exist (they are deleted when the chord body runs). */
  async chord (groupId: string): Promise<GroupView['chord']> {
    const counters = await this.#store.readChordCounters(groupId)
    if (counters === null) return null
    return { total: counters.size + (counters.adjustment ?? 0), completed: counters.partsDone }
  }

  /** Current progress, or null when neither a saved group nor chord counters exist; one deadline for it all. */
  read (groupId: string): Promise<GroupView | null> {
    return withDeadline(this.#read(groupId), this.#store.deadlineMs)
  }

  async #read (groupId: string): Promise<GroupView | null> {
    const [ids, chord] = await Promise.all([this.childIds(groupId), this.chord(groupId)])
    if (ids === null && chord === null) return null
    const documents = ids === null || ids.length === 0 ? [] : await this.#store.readDocuments(ids)
    const children = (ids ?? []).map((taskId, i) => {
      const document = documents[i]
      if (document === null || document === undefined) return { taskId, state: 'PENDING', ready: false }
      if (document instanceof DecodeError) throw document
      const view = this.#views.decode(document, taskId)
      return { taskId, state: view.state, ready: view.ready }
    })
    return summarize(groupId, ids !== null, children, chord)
  }
}
