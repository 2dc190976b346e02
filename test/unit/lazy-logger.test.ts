import { Writable } from 'node:stream'
import t from 'tap'
import Fastify from 'fastify'
import { pino } from 'pino'
import { lazyChildLogger } from '../../src/logging/lazy-logger.js'

/** A pino logger writing into an array of parsed lines, `time` dropped (the only field that may differ). */
function capture (level: string) {
  const lines: Array<Record<string, unknown>> = []
  const stream = new Writable({
    write (chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(x => x !== '')) {
        const { time: _time, responseTime: _rt, ...rest } = JSON.parse(l) as Record<string, unknown>
        lines.push(rest)
      }
      done()
    }
  })
  return { lines, stream, logger: pino({ level }, stream) }
}

t.test('the lazy child logs exactly what pino\'s child logs', async t => {
  const eager = capture('debug')
  const lazy = capture('debug')
  const logs = [eager.logger.child({ reqId: 'r1' }, {}), lazyChildLogger(lazy.logger, { reqId: 'r1' }, {})]
  for (const log of logs) {
    log.info({ a: 1 }, 'x')
    log.warn('y %s', 'z')
    log.debug('d')
    log.trace('not at debug')
    log.error(new Error('boom'))
    log.child({ k: 1 }).info('c')
    t.equal(log.level, 'debug')
  }
  for (const l of [...eager.lines, ...lazy.lines]) delete (l.err as Record<string, unknown> | undefined)?.stack
  t.same(lazy.lines, eager.lines)
  t.equal(lazy.lines.length, 5)
})

t.test('no child is made for what the level drops', async t => {
  const { logger, lines } = capture('warn')
  let made = 0
  const child = logger.child.bind(logger)
  logger.child = ((...args: Parameters<typeof logger.child>) => { made++; return child(...args) }) as typeof logger.child
  const log = lazyChildLogger(logger, { reqId: 'r2' }, {})
  log.info('dropped')
  log.debug('dropped')
  t.equal(made, 0, 'info and debug at warn: no child')
  log.warn('kept')
  t.equal(made, 1)
  t.match(lines, [{ reqId: 'r2', msg: 'kept', level: 40 }])
})

t.test('through Fastify: request log lines are the same as with the default factory', async t => {
  const run = async (lazy: boolean) => {
    const { lines, stream } = capture('info')
    const app = Fastify({ logger: { level: 'info', stream }, requestIdHeader: 'x-request-id', ...(lazy ? { childLoggerFactory: lazyChildLogger } : {}) })
    app.get('/x', async (req) => { req.log.warn({ q: 1 }, 'from the handler'); return { ok: true } })
    await app.inject({ url: '/x', headers: { 'x-request-id': 'fixed' } })
    await app.inject({ url: '/missing', headers: { 'x-request-id': 'fixed-2' } })
    await app.close()
    return lines.map(({ req, res, ...rest }) => ({ ...rest, req: { ...(req as object), remotePort: 0 }, res }))
  }
  const lazy = await run(true)
  t.same(lazy, await run(false))
  t.match(lazy, [{ reqId: 'fixed', msg: 'incoming request' }, { reqId: 'fixed', msg: 'from the handler' }, { reqId: 'fixed', msg: 'request completed' }])
})
