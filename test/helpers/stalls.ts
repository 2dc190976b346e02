/**
 * How long this process's event loop stalled while a timing was taken. On a loaded 2-core machine the scheduler
 * can hold a test process back for hundreds of milliseconds, and every timer in it (a deadline's, or the one
 * that notices an answer) fires that much later: tests that bound a duration add the longest stall measured
 * over the same span to their bound, and report it, so the bound judges the product and not the machine.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks'

export function measureStalls (): { stop: () => number } {
  const h = monitorEventLoopDelay({ resolution: 10 })
  h.enable()
  return {
    /** Stops measuring; the longest stall seen, in whole milliseconds. */
    stop: () => {
      h.disable()
      return Math.round(h.max / 1e6)
    }
  }
}
