/**
 * What the domain reports for metrics, without knowing about Prometheus: plugins/metrics.ts implements it.
 * Every label value handed out here comes from a closed set (states are folded by stateLabel).
 */
import { CELERY_STATES } from './meta.js'
import type { WaitOutcome } from './waiter.js'

export interface ResultObserver {
  /** A result document was read (bytes as stored) or written. */
  payload: (direction: 'read' | 'write', bytes: number) => void
  fetched: (state: string) => void
  stored: (state: string) => void
  refused: () => void
  decodeError: (format: string) => void
  /** A wait ended; wakeSeconds is the time from the waking PUBLISH's arrival to the answer, when woken. */
  waited: (outcome: WaitOutcome, wakeSeconds: number | null) => void
}

export const noopObserver: ResultObserver = {
  payload: () => {},
  fetched: () => {},
  stored: () => {},
  refused: () => {},
  decodeError: () => {},
  waited: () => {}
}

/** Celery's built-in states keep their name; custom states (PROGRESS, …) become CUSTOM, bounding label values. */
export function stateLabel (state: string): string {
  return CELERY_STATES.has(state) ? state : 'CUSTOM'
}
