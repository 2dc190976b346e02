/** Deadlines for conditions, not performance thresholds: generous for a loaded 2-core CI machine. */
const DEADLINE_MS = 30_000

/** Resolves once `cond` holds; throws naming `what` after the deadline (30 s unless given). */
export async function until (cond: () => boolean | Promise<boolean>, what: string, deadlineMs = DEADLINE_MS): Promise<void> {
  const deadline = Date.now() + deadlineMs
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

/** Reads until `ok(value)`; returns that value, or throws with the last one seen. */
export async function eventually<T> (read: () => Promise<T>, ok: (v: T) => boolean, what: string, deadlineMs = DEADLINE_MS): Promise<T> {
  const deadline = Date.now() + deadlineMs
  for (;;) {
    const v = await read()
    if (ok(v)) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}
