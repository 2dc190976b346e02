/**
 * RG_WORKERS=2 with tracing on: every worker (forked with the same node flags, so the same preload) exports
 * its own spans, with the same service name and resource attributes.
 */
import t from 'tap'
import { startOtlpReceiver } from '../helpers/otlp-receiver.js'
import { SERVER_START_MS } from '../helpers/server.js'
import { headers, traceparent, tracedGateway } from '../helpers/traced-gateway.js'
import { until } from '../helpers/until.js'

t.test('each worker exports its own spans with the same resource', async t => {
  const receiver = await startOtlpReceiver(t)
  const { srv, base } = await tracedGateway(t, {
    RG_WORKERS: '2',
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_SERVICE_NAME: 'rg-workers',
    OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test',
    OTEL_BSP_SCHEDULE_DELAY: '200'
  })
  // The first worker's "Server listening" ends tracedGateway's wait; the second may still be starting.
  await until(() => (srv.output().match(/Server listening/g) ?? []).length >= 2 || srv.child.exitCode !== null, 'two workers listening', SERVER_START_MS)
  const servers = () => receiver.spans().filter(s => s.kind === 2)
  const pids = () => new Set(servers().map(s => s.resource['process.pid']))
  // New connections are handed to the workers in turn; keep asking until both have answered (and exported).
  await until(async () => {
    await fetch(`${base}/v1/results/w-${Math.random()}`, { headers: { ...headers, traceparent: traceparent().header, connection: 'close' } })
    return pids().size >= 2
  }, 'server spans from both workers')
  t.equal(pids().size, 2, 'two exporting processes')
  for (const s of servers()) t.match(s.resource, { 'service.name': 'rg-workers', 'deployment.environment.name': 'test' })
  srv.child.kill('SIGTERM')
  t.equal(await srv.exited, 0)
})
