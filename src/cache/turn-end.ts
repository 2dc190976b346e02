/**
 * Work deferred to the end of this turn of the event loop (setImmediate), in order, all of it in one go: the
 * answer cache's hits are sent so, together, as the misses' answers are when their batched read returns
 * (redis/key-batch.ts). Answering each hit the moment its request was parsed interleaves one socket write per
 * request with the reads of the next requests; on the bench's two cores that woke the client once per answer
 * and cost a cached fetch ~30 % more CPU than answering the turn's hits back to back (bench/README.md). A hit
 * still needs no Redis and waits for nothing but the rest of the turn's I/O callbacks.
 */

type Job = () => void

let queue: Job[] = []

function runQueue (): void {
  const jobs = queue
  queue = []
  for (const job of jobs) job()
}

/** Runs `job` at the end of this turn of the event loop, after the jobs queued before it. It must not throw. */
export function atTurnEnd (job: Job): void {
  if (queue.push(job) === 1) setImmediate(runQueue)
}
