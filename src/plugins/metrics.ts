/**
 * Prometheus metrics (prom-client, one Registry per app): process defaults, HTTP requests by route template,
 * Redis commands by name, connection state by role, waiters, subscriptions, wait outcomes and wake latency,
 * results by state, payload sizes, decode errors. Labels come from closed sets only; never a task id.
 */
import fp from 'fastify-plugin'
import { Cluster, type Command, type Redis } from 'ioredis'
import { COMMAND_LABELS } from '../redis/commands.js'
import type { RedisClient } from '../redis/connect.js'
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import { stateLabel, type ResultObserver } from '../celery/observer.js'
import type { Config } from '../config.js'
import { VERSION } from '../version.js'
import { isLongPoll, statusLabel, waitBuckets } from './metrics-labels.js'
import { Tally, type Tallied } from './metrics-tally.js'

declare module 'fastify' {
  interface FastifyInstance {
    metrics: { registry: Registry, observer: ResultObserver }
  }
}

const P = 'result_gateway_'
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

/**
 * prom-client hashes a label object on every call; the hot paths (one HTTP request, one Redis command) look
 * their labelled child up once per label combination instead. Label sets are closed, so the cache is bounded.
 */
function cached<T> (make: (key: string) => T): (key: string) => T {
  const cache = new Map<string, T>()
  return (key) => {
    let v = cache.get(key)
    if (v === undefined) {
      v = make(key)
      cache.set(key, v)
    }
    return v
  }
}

// Redis.sendCommand(command, stream) and Cluster.sendCommand(command, stream, node): pass both through as is.
type SendCommand = (command: Command, stream?: unknown, node?: unknown) => unknown

function instrumentRedis (client: RedisClient | Redis, duration: Histogram<'command'>, errors: Counter<'command'>): void {
  const target = client as unknown as { sendCommand: SendCommand }
  const send = target.sendCommand.bind(client)
  const timer = cached(command => duration.labels({ command }))
  const failures = cached(command => errors.labels({ command }))
  target.sendCommand = (command, stream, node) => {
    // Commands the gateway sends (redis/commands.ts); anything else (a future command) is counted as "other".
    const name = COMMAND_LABELS.has(command.name) ? command.name : 'other'
    const start = performance.now()
    const result = send(command, stream, node)
    const observe = (): void => timer(name).observe((performance.now() - start) / 1000)
    command.promise.then(observe, () => { observe(); failures(name).inc() })
    return result
  }
}

/**
 * prom-client's defaults include gauges named nodejs_active_{handles,requests,resources}_total, which
 * `promtool check metrics` rejects (only counters end in _total); they are sums of the by-type gauges
 * (sum(nodejs_active_handles)), so they are dropped.
 */
const MISNAMED_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']

/** Constant series: the build, and the configured limits (alerts compare against these, not hard-coded numbers). */
function staticGauges (registry: Registry, config: Pick<Config, 'wait' | 'batch' | 'ops'>): void {
  const registers = [registry]
  // RG_WORKERS > 1 aggregates every worker's registry: a constant is the same in each (first), not summed;
  // waiters_max is per process, so the host's capacity is the sum.
  new Gauge({ name: `${P}build_info`, help: 'Always 1; the gateway\'s version and the Node.js version as labels', labelNames: ['version', 'node_version'] as const, registers, aggregator: 'first' })
    .set({ version: VERSION, node_version: process.versions.node }, 1)
  const limits: Array<[string, string, number]> = [
    ['waiters_max', 'Most concurrent long-poll waiters this process accepts (RG_WAIT_MAX_WAITERS)', config.wait.maxWaiters],
    ['wait_max_seconds', 'Longest wait a client may ask for (RG_WAIT_MAX_SECONDS)', config.wait.maxSeconds],
    ['batch_max_ids', 'Most task ids in one batch request (RG_BATCH_MAX_IDS)', config.batch.maxIds],
    ['stats_interval_seconds', 'How often result statistics are refreshed (RG_STATS_INTERVAL_SECONDS; 0 = off)', config.ops.statsIntervalSeconds]
  ]
  for (const [name, help, value] of limits) new Gauge({ name: `${P}${name}`, help, registers, aggregator: name === 'waiters_max' ? 'sum' : 'first' }).set(value)
}

export default fp<{ config: Pick<Config, 'wait' | 'batch' | 'ops' | 'auth'> }>(async (app, { config }) => {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  for (const name of MISNAMED_DEFAULTS) registry.removeSingleMetric(name)
  staticGauges(registry, config)

  const httpRequests = new Tally({ name: `${P}http_requests_total`, help: 'HTTP requests answered, by route template, method and exact status (other = a status outside the known set)', labelNames: ['route', 'method', 'code'] as const, registers: [registry] })
  const httpDuration = new Histogram({ name: `${P}http_request_duration_seconds`, help: 'HTTP request latency, by route template and method (long-polls and streams are in result_gateway_wait_duration_seconds)', labelNames: ['route', 'method'] as const, buckets: LATENCY_BUCKETS, registers: [registry] })
  const waitDuration = new Histogram({ name: `${P}wait_duration_seconds`, help: 'Duration of long-poll and streaming requests, by route template; buckets end at RG_WAIT_MAX_SECONDS', labelNames: ['route'] as const, buckets: waitBuckets(config.wait.maxSeconds), registers: [registry] })
  const redisDuration = new Histogram({ name: `${P}redis_command_duration_seconds`, help: 'Redis command latency, by command', labelNames: ['command'] as const, buckets: LATENCY_BUCKETS, registers: [registry] })
  const redisErrors = new Counter({ name: `${P}redis_command_errors_total`, help: 'Redis commands that failed, by command', labelNames: ['command'] as const, registers: [registry] })
  const connections: Array<[string, RedisClient]> = [['data', app.redis], ['subscriber', app.redisSubscriber]]
  new Gauge({ // eslint-disable-line no-new
    name: `${P}redis_connection_up`,
    help: 'Whether each Redis connection is ready (1) or not (0), by role',
    labelNames: ['role'] as const,
    registers: [registry],
    collect () { for (const [role, client] of connections) this.set({ role }, client.status === 'ready' ? 1 : 0) }
  })
  new Gauge({ // eslint-disable-line no-new
    name: `${P}redis_nodes_up`,
    help: 'Redis servers the data client is connected to and ready, by topology role (master, replica; a cluster counts its nodes, Sentinel and standalone their one master)',
    labelNames: ['role'] as const,
    registers: [registry],
    // Across workers (RG_WORKERS > 1): the worst worker's view, so a node lost to one of them still shows.
    aggregator: 'min',
    collect () {
      const up = (nodes: Redis[]): number => nodes.filter(n => n.status === 'ready').length
      if (app.redis instanceof Cluster) {
        this.set({ role: 'master' }, up(app.redis.nodes('master')))
        this.set({ role: 'replica' }, up(app.redis.nodes('slave')))
      } else {
        this.set({ role: 'master' }, app.redis.status === 'ready' ? 1 : 0)
      }
    }
  })
  new Gauge({ // eslint-disable-line no-new
    name: `${P}waiters`,
    help: 'Long-poll waiters currently waiting',
    registers: [registry],
    collect () { this.set(app.waiter.stats.waiters) }
  })
  new Gauge({ // eslint-disable-line no-new
    name: `${P}pubsub_subscriptions`,
    help: 'Channels the shared subscriber connection is subscribed to',
    registers: [registry],
    collect () { this.set(app.waiter.stats.channels) }
  })
  const waits = new Counter({ name: `${P}wait_outcomes_total`, help: 'Finished waits, by outcome (ready, timeout, cancelled, interrupted)', labelNames: ['outcome'] as const, registers: [registry] })
  const wake = new Histogram({ name: `${P}wake_latency_seconds`, help: 'Time from a waking PUBLISH reaching the gateway to the waiter\'s answer written to its socket', buckets: LATENCY_BUCKETS, registers: [registry] })
  const fetched = new Tally({ name: `${P}results_fetched_total`, help: 'Results read and decoded, by state (custom states as CUSTOM)', labelNames: ['state'] as const, registers: [registry] })
  const stored = new Tally({ name: `${P}results_stored_total`, help: 'Results written, by state (custom states as CUSTOM)', labelNames: ['state'] as const, registers: [registry] })
  const refused = new Counter({ name: `${P}store_refusals_total`, help: 'Stores refused because a SUCCESS was already stored', registers: [registry] })
  const payload = new Histogram({ name: `${P}payload_bytes`, help: 'Size of result documents read and written', labelNames: ['direction'] as const, buckets: [256, 1024, 4096, 16384, 65536, 262144, 1048576], registers: [registry] })
  const decodeErrors = new Counter({ name: `${P}decode_errors_total`, help: 'Stored or published values that could not be decoded, by serializer', labelNames: ['serializer'] as const, registers: [registry] })

  const payloadBy = cached(direction => payload.labels({ direction }))
  const fetchedBy = cached(state => fetched.of({ state }))
  const storedBy = cached(state => stored.of({ state }))
  const observer: ResultObserver = {
    payload: (direction, bytes) => payloadBy(direction).observe(bytes),
    fetched: (state) => { fetchedBy(stateLabel(state)).n++ },
    stored: (state) => { storedBy(stateLabel(state)).n++ },
    refused: () => refused.inc(),
    decodeError: (format) => decodeErrors.inc({ serializer: format }),
    waited: (outcome, wakeSeconds) => {
      waits.inc({ outcome })
      if (wakeSeconds !== null) wake.observe(wakeSeconds)
    }
  }
  // Commands by name on every connection that serves requests (the rate limiter's counts included, as when
  // they ran on the data connection); connection state stays by the two long-lived roles above.
  for (const client of [app.redis, app.redisSubscriber, app.redisRateLimit]) instrumentRedis(client, redisDuration, redisErrors)
  app.decorate('metrics', { registry, observer })

  /** A route's figures: its duration child (latency or wait histogram), and its counts by status. */
  interface RouteFigures { time: { observe: (seconds: number) => void }, counts: Map<number, Tallied>, route: string, method: string }
  const figures = new Map<string, RouteFigures>()
  const figuresOf = (route: string, method: string): RouteFigures => {
    const key = `${method} ${route}`
    let f = figures.get(key)
    if (f === undefined) {
      f = { time: isLongPoll(route) ? waitDuration.labels({ route }) : httpDuration.labels({ route, method }), counts: new Map(), route, method }
      figures.set(key, f)
    }
    return f
  }
  // A callback hook, not an async one: no promise per request on the hot path. Everything a request's figures
  // need is looked up per route and method once (the labelled histogram child, the counts by status).
  let last: RouteFigures | undefined
  app.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url ?? 'unmatched'
    if (route !== '/metrics') {
      const f = last !== undefined && last.route === route && last.method === req.method ? last : (last = figuresOf(route, req.method))
      const status = reply.statusCode
      let count = f.counts.get(status)
      if (count === undefined) {
        count = httpRequests.of({ route, method: f.method, code: statusLabel(status) })
        f.counts.set(status, count)
      }
      count.n++
      f.time.observe(reply.elapsedTime / 1000)
    }
    done()
  })

  // Public unless RG_METRICS_PUBLIC=false (then the admin scope is needed).
  app.get('/metrics', { config: { exemptFromLoadShedding: true, public: config.auth.metricsPublic }, schema: { hide: true } }, async (_req, reply) => {
    return reply.type(registry.contentType).send(await registry.metrics())
  })
}, { name: 'metrics', dependencies: ['redis'] })
