#!/usr/bin/env node
/**
 * Operator commands with the service's own configuration (the same RG_* variables):
 *   result-gateway doctor                       checks Redis as the gateway uses it; exit 1 on any fail
 *   result-gateway stats                        result keys by state and TTL, Redis memory (JSON)
 *   result-gateway sweep [--apply] [--cursor C] orphaned results (no TTL): report, or give them RG_RESULT_TTL_SECONDS
 */
import { parseArgs } from 'node:util'
import { ConfigError, loadConfig } from './config.js'
import { closeRedis, createRedis } from './redis/connect.js'
import { formatChecks, runDoctor } from './ops/doctor.js'
import { collectStats } from './ops/stats.js'
import { sweepOrphans } from './ops/sweep.js'
import { VERSION } from './version.js'

const USAGE = 'usage: result-gateway doctor | stats | sweep [--apply] [--cursor <cursor>] [--max-keys <n>] | --help | --version'
const HELP = `result-gateway ${VERSION}: operator commands, with the gateway's own RG_* configuration

${USAGE}

  doctor   checks Redis as the gateway uses it (connection, TLS, topology, eviction, persistence); exit 1 on a failure
  stats    result keys by state and TTL bucket, Redis memory (JSON, SCAN in paced batches)
  sweep    results without a TTL: a dry-run report, or --apply gives them RG_RESULT_TTL_SECONDS (resumable: --cursor)

The server itself: node dist/server.js (configuration: RG_* variables, docs/configuration.md).
`

async function main (argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      apply: { type: 'boolean', default: false },
      cursor: { type: 'string' },
      'max-keys': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
      version: { type: 'boolean', short: 'v', default: false }
    }
  })
  if (values.help === true) {
    process.stdout.write(HELP)
    return 0
  }
  if (values.version === true) {
    process.stdout.write(`${VERSION}\n`)
    return 0
  }
  const command = positionals[0]
  if (command === undefined || !['doctor', 'stats', 'sweep'].includes(command)) {
    process.stderr.write(`${USAGE}\n`)
    return 2
  }
  // API tokens guard the HTTP API only; the commands run where the configuration is.
  const config = loadConfig({ ...process.env, RG_AUTH_DISABLED: 'true' })
  if (command === 'doctor') {
    const checks = await runDoctor(config.redis)
    process.stdout.write(`${formatChecks(checks)}\n`)
    const failed = checks.filter(c => c.status === 'fail').length
    const warned = checks.filter(c => c.status === 'warn').length
    process.stdout.write(`${failed === 0 ? 'OK' : 'FAILED'}: ${checks.length - failed - warned} pass, ${warned} warn, ${failed} fail\n`)
    return failed === 0 ? 0 : 1
  }
  if (config.redis.topology === null) {
    process.stderr.write('result-gateway: no Redis configured (RG_REDIS_URL, RG_REDIS_SENTINELS, RG_REDIS_CLUSTER_NODES or REDIS_HOST)\n')
    return 1
  }
  const redis = createRedis(config.redis)
  redis.on('error', () => {})
  const { ops } = config
  const maxKeys = values['max-keys'] === undefined ? ops.scanMaxKeys : Number(values['max-keys'])
  const scan = { prefix: config.redis.keyPrefix, count: ops.scanBatch, pauseMs: ops.scanPauseMs, maxKeys }
  try {
    if (command === 'stats') {
      process.stdout.write(`${JSON.stringify(await collectStats(redis, scan), null, 2)}\n`)
    } else {
      const ttlSeconds = config.results.ttlSeconds > 0 ? config.results.ttlSeconds : 86400
      const result = await sweepOrphans(redis, {
        ...scan,
        ...(values.cursor === undefined ? {} : { cursor: values.cursor }),
        apply: values.apply === true,
        ttlSeconds,
        onProgress: r => process.stderr.write(`scanned ${r.scannedKeys}, orphans ${r.orphans}, expired ${r.expired}, cursor ${r.cursor ?? 'done'}\n`)
      })
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
    }
    return 0
  } finally {
    await closeRedis(redis)
  }
}

main(process.argv.slice(2)).then(code => process.exit(code), (err: unknown) => {
  // parseArgs' unknown-option errors are usage errors: say how to get help, exit 2.
  const usage = (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true
  process.stderr.write(`result-gateway: ${err instanceof ConfigError ? err.message : err instanceof Error ? err.message : String(err)}${usage ? ' (result-gateway --help)' : ''}\n`)
  process.exit(usage ? 2 : 1)
})
