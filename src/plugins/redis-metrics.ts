/**
 * Redis's own figures as metrics, per master (a cluster has several), from the INFO that RedisInfoWatch keeps
 * fresh: keys evicted and expired (Redis's counters since it started, mirrored: a Redis restart is a counter
 * reset, as Prometheus expects) and used / max memory. Plus the writes Redis refused, by a closed set of
 * reasons from the reply table (src/redis/replies.ts). A scrape only reads the last figures.
 */
import fp from 'fastify-plugin'
import { Counter, Gauge } from 'prom-client'
import { replyRow, WRITE_REFUSALS } from '../redis/replies.js'

const P = 'result_gateway_'
const READS = new Set(['GET', 'HEAD'])

/** "host:port" of a master, or "master" where the client does not name it (a Sentinel-managed master). */
const nodeLabel = (address: string): string => /^[\w.:-]+:\d+$/.test(address) && !address.startsWith(':') ? address : 'master'

export default fp(async (app) => {
  const registers = [app.metrics.registry]
  const info = app.redisInfo
  // Every worker of RG_WORKERS > 1 reads the same Redis: one figure (max), not a sum.
  const mirror = (name: string, help: string, pick: 'evictedKeys' | 'expiredKeys'): void => {
    new Counter({ // eslint-disable-line no-new
      name,
      help,
      labelNames: ['node'] as const,
      registers,
      aggregator: 'max',
      collect () {
        this.reset()
        for (const [address, n] of info.nodes) this.inc({ node: nodeLabel(address) }, n[pick])
      }
    })
  }
  mirror(`${P}redis_evicted_keys_total`, 'Keys Redis evicted at maxmemory since it started (INFO stats evicted_keys), by master: results lost before they expired', 'evictedKeys')
  mirror(`${P}redis_expired_keys_total`, 'Keys Redis expired since it started (INFO stats expired_keys), by master', 'expiredKeys')
  new Gauge({ // eslint-disable-line no-new
    name: `${P}redis_memory_used_ratio`,
    help: 'Redis used_memory / maxmemory, by master (no series where maxmemory is 0: no limit)',
    labelNames: ['node'] as const,
    registers,
    aggregator: 'max',
    collect () {
      this.reset()
      for (const [address, n] of info.nodes) if (n.maxmemoryBytes > 0) this.set({ node: nodeLabel(address) }, n.usedMemoryBytes / n.maxmemoryBytes)
    }
  })
  const refusals = new Counter({
    name: `${P}redis_write_refusals_total`,
    help: 'Writes (stores, expiry changes, forgets) Redis refused, by reason (oom, misconf, noperm, readonly, noreplicas)',
    labelNames: ['reason'] as const,
    registers
  })
  for (const reason of WRITE_REFUSALS) refusals.inc({ reason }, 0)
  app.addHook('onError', (req, _reply, error, done) => {
    const reason = READS.has(req.method) ? undefined : replyRow(error.message)?.refusal
    if (reason !== undefined) refusals.inc({ reason })
    done()
  })
}, { name: 'redis-metrics', dependencies: ['redis', 'metrics'] })
