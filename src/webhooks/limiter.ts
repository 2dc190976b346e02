/**
 * Bounds deliveries in flight: at most `total` at once, and at most `perTarget` to one host:port, so a slow or
 * hanging receiver holds only its own slots. Work for a busy target waits in that target's own line.
 */
export class Limiter {
  readonly #total: number
  readonly #perTarget: number
  #active = 0
  readonly #byTarget = new Map<string, { active: number, waiting: Array<() => void> }>()

  constructor (total: number, perTarget: number) {
    this.#total = total
    this.#perTarget = perTarget
  }

  /** Deliveries started or waiting for a per-target slot (the reader takes no more than `total` of them). */
  get held (): number {
    let n = this.#active
    for (const t of this.#byTarget.values()) n += t.waiting.length
    return n
  }

  get hasRoom (): boolean {
    return this.held < this.#total
  }

  async run<T> (target: string, work: () => Promise<T>): Promise<T> {
    let t = this.#byTarget.get(target)
    if (t === undefined) {
      t = { active: 0, waiting: [] }
      this.#byTarget.set(target, t)
    }
    const slot = t
    if (slot.active >= this.#perTarget) await new Promise<void>(resolve => slot.waiting.push(resolve))
    slot.active++
    this.#active++
    try {
      return await work()
    } finally {
      slot.active--
      this.#active--
      const next = slot.waiting.shift()
      if (next !== undefined) next()
      else if (slot.active === 0) this.#byTarget.delete(target)
    }
  }
}
