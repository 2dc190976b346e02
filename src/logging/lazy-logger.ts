/**
 * Fastify's childLoggerFactory: each request's `req.log` is a stand-in that makes the real pino child (with
 * the request id binding) only when a line is logged at an enabled level. At `warn` and above a request that
 * logs nothing costs no child at all (pino builds a child's bindings and methods up front: ~3 µs a request in
 * #18's profile); whenever something is logged, it goes through a child made exactly as Fastify's default
 * factory makes it, so the output is the same line.
 */
import type { FastifyBaseLogger } from 'fastify'

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'
type Bindings = Parameters<FastifyBaseLogger['child']>[0]
type ChildOptions = Parameters<FastifyBaseLogger['child']>[1]

class LazyChild {
  readonly #parent: FastifyBaseLogger
  readonly #bindings: Bindings
  readonly #opts: ChildOptions
  #child: FastifyBaseLogger | undefined

  constructor (parent: FastifyBaseLogger, bindings: Bindings, opts: ChildOptions) {
    this.#parent = parent
    this.#bindings = bindings
    this.#opts = opts
  }

  #real (): FastifyBaseLogger {
    this.#child ??= this.#parent.child(this.#bindings, this.#opts)
    return this.#child
  }

  /** pino answers isLevelEnabled; a logger without it is taken as logging everything. */
  #enabled (level: Level): boolean {
    if (this.#child !== undefined) return true
    const p = this.#parent as FastifyBaseLogger & { isLevelEnabled?: (l: string) => boolean }
    return typeof p.isLevelEnabled === 'function' ? p.isLevelEnabled(level) : true
  }

  get level (): string { return (this.#child ?? this.#parent).level }
  set level (level: string) { this.#real().level = level }

  fatal (...args: unknown[]): void { if (this.#enabled('fatal')) this.#log('fatal', args) }
  error (...args: unknown[]): void { if (this.#enabled('error')) this.#log('error', args) }
  warn (...args: unknown[]): void { if (this.#enabled('warn')) this.#log('warn', args) }
  info (...args: unknown[]): void { if (this.#enabled('info')) this.#log('info', args) }
  debug (...args: unknown[]): void { if (this.#enabled('debug')) this.#log('debug', args) }
  trace (...args: unknown[]): void { if (this.#enabled('trace')) this.#log('trace', args) }
  silent (): void {}
  child (bindings: Bindings, opts?: ChildOptions): FastifyBaseLogger { return this.#real().child(bindings, opts) }

  #log (level: Level, args: unknown[]): void {
    (this.#real()[level] as (...a: unknown[]) => void)(...args)
  }
}

/** Fastify's FastifyChildLoggerFactory shape (the type is not exported from 'fastify'). */
export function lazyChildLogger (logger: FastifyBaseLogger, bindings: Bindings, opts: NonNullable<ChildOptions>): FastifyBaseLogger {
  // Route-level log levels or serializers change the child itself: make it now, as the default factory does.
  if (opts.level !== undefined || opts.serializers !== undefined) return logger.child(bindings, opts)
  return new LazyChild(logger, bindings, opts) as unknown as FastifyBaseLogger
}
