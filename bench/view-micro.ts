/**
 * Micro-benchmark of the fetch view (fastJsonView): what building the view of a stored JSON document costs,
 * for a small, a 4 KB and a 64 KB result. Run on two commits to see what a change cost (#16.2: validating the
 * copied members). `npx tsx bench/view-micro.ts` prints CPU ns per view, best of 15 rounds.
 */
import { fastJsonView } from '../src/celery/fast-view.js'

function doc (result: unknown): Buffer {
  return Buffer.from(JSON.stringify({
    status: 'SUCCESS',
    result,
    traceback: null,
    children: [],
    date_done: '2026-11-24T22:35:40.781582',
    name: 'tasks.add',
    args: [40, 2],
    kwargs: { mode: 'fast' },
    task_id: 'd06bfa71-85ad-4e6b-beba-6a62b483c6c0'
  }))
}

const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ id: i, name: `row ${i} ünï`, score: i * 1.5, tags: ['a', 'b'], ok: i % 2 === 0 }))
const cases: Array<[string, Buffer]> = [['small', doc({ answer: 42 })], ['4 KB', doc(rows(50))], ['64 KB', doc(rows(800))]]

for (const [name, b] of cases) {
  if (fastJsonView(b, 'x') === null) throw new Error(`${name}: the fast path refused the document`)
  const n = Math.max(200, Math.round(2e8 / (b.length * 50)))
  let best = Infinity
  for (let round = 0; round < 15; round++) {
    // CPU time, not wall time: the bench machine is shared, and preemption would dominate a wall clock.
    const t0 = process.cpuUsage()
    for (let i = 0; i < n; i++) fastJsonView(b, 'x')
    const used = process.cpuUsage(t0)
    best = Math.min(best, (used.user + used.system) * 1000 / n)
  }
  process.stdout.write(`${name.padEnd(6)} ${String(b.length).padStart(6)} bytes  ${Math.round(best).toString().padStart(8)} ns/view  ${(b.length / best * 1e3).toFixed(0)} MB/s\n`)
}
