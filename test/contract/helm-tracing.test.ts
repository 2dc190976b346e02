/** The chart's tracing values: the standard OTEL_* variables, only with an endpoint; the collector let through the NetworkPolicy. */
import t from 'tap'
import { parseAllDocuments } from 'yaml'
import { CHART, helm } from '../helpers/helm.js'

interface Env { name: string, value?: string, valueFrom?: { secretKeyRef?: { name: string, key: string }, fieldRef?: { fieldPath: string } } }
interface Manifest { kind: string, spec?: { template?: { spec: { containers: Array<{ env?: Env[] }> } }, egress?: Array<{ ports: Array<{ port: number }>, to?: unknown[] }> } }

async function render (valuesFile: string, ...set: string[]): Promise<Manifest[]> {
  const args = ['template', 'rg', CHART, '--namespace', 'celery', '-f', `${CHART}/ci/${valuesFile}`]
  for (const s of set) args.push('--set', s)
  return parseAllDocuments(await helm(...args)).map(d => d.toJS() as Manifest).filter(Boolean)
}
const env = (ms: Manifest[]): Env[] => ms.find(m => m.kind === 'Deployment')?.spec?.template?.spec.containers[0]?.env ?? []

t.test('without tracing.endpoint no OTEL_* variable is rendered (tracing off)', async t => {
  t.same(env(await render('defaults-values.yaml')).filter(e => e.name.startsWith('OTEL_')), [])
})

t.test('tracing.* become the standard variables; headers from a Secret; pod and namespace in the resource', async t => {
  const ms = await render('tracing-values.yaml')
  const byName = Object.fromEntries(env(ms).map(e => [e.name, e]))
  t.equal(byName.OTEL_EXPORTER_OTLP_ENDPOINT?.value, 'http://otel-collector.observability:4318')
  t.equal(byName.OTEL_EXPORTER_OTLP_PROTOCOL?.value, 'http/protobuf')
  t.equal(byName.OTEL_TRACES_SAMPLER?.value, 'parentbased_traceidratio')
  t.equal(byName.OTEL_TRACES_SAMPLER_ARG?.value, '0.1')
  t.equal(byName.OTEL_SERVICE_NAME?.value, 'result-gateway')
  t.equal(byName.OTEL_RESOURCE_ATTRIBUTES?.value, 'k8s.namespace.name=celery,k8s.pod.name=$(K8S_POD_NAME),deployment.environment.name=production')
  const names = env(ms).map(e => e.name)
  t.ok(names.indexOf('K8S_POD_NAME') < names.indexOf('OTEL_RESOURCE_ATTRIBUTES'), 'the pod name is defined before it is referenced')
  t.same(byName.OTEL_EXPORTER_OTLP_HEADERS?.valueFrom?.secretKeyRef, { name: 'otlp-credentials', key: 'headers' })
  const egress = ms.find(m => m.kind === 'NetworkPolicy')?.spec?.egress ?? []
  t.ok(egress.some(e => e.ports.some(p => p.port === 4318) && e.to !== undefined), 'the collector is reachable through the NetworkPolicy')
})

t.test('the schema refuses a protocol the gateway does not speak and a sampler that does not exist', async t => {
  await t.rejects(render('tracing-values.yaml', 'tracing.protocol=grpc'), /protocol/)
  await t.rejects(render('tracing-values.yaml', 'tracing.sampler=sometimes'), /sampler/)
})
