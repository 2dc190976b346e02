/**
 * The chart at the bar of the public charts operators trust: every rendered object of every ci scenario valid
 * against the Kubernetes and prometheus-operator schemas (offline), drain-aware grace period, one HTTP port,
 * checksums, ServiceAccount, standard labels, helm test, ServiceMonitor token, NetworkPolicy for monitoring
 * and Sentinel, PrometheusRule and dashboard from the shipped files, values.schema.json generated from the config.
 */
import { readdirSync, readFileSync } from 'node:fs'
import t from 'tap'
import { parse, parseAllDocuments } from 'yaml'
import { renderValuesSchema, VALUES_SCHEMA_PATH } from '../../scripts/helm-schema.js'
import { CHART, helm } from '../helpers/helm.js'
import { validateObject } from '../helpers/k8s-validate.js'

interface Obj { apiVersion: string, kind: string, metadata: { name: string, labels?: Record<string, string>, annotations?: Record<string, string> }, spec?: any, data?: Record<string, string> }

const scenarios = readdirSync(`${CHART}/ci`).filter(f => f.endsWith('-values.yaml'))

async function render (valuesFile: string, ...set: string[]): Promise<Obj[]> {
  const args = ['template', 'rg', CHART, '--namespace', 'celery', '-f', `${CHART}/ci/${valuesFile}`]
  for (const s of set) args.push('--set', s)
  return parseAllDocuments(await helm(...args)).map(d => d.toJS() as Obj).filter(Boolean)
}
const one = (ms: Obj[], kind: string, name?: string): Obj => {
  const m = ms.find(o => o.kind === kind && (name === undefined || o.metadata.name === name))
  if (m === undefined) throw new Error(`no ${kind} rendered`)
  return m
}

t.test('every object of every scenario validates against the Kubernetes / prometheus-operator schemas', async t => {
  let count = 0
  for (const f of scenarios) {
    for (const o of await render(f)) {
      t.doesNotThrow(() => validateObject(o), `${f}: ${o.kind} ${o.metadata.name}`)
      count++
    }
  }
  const kinds = new Set((await render('production-values.yaml')).map(o => o.kind))
  for (const k of ['Deployment', 'Service', 'ConfigMap', 'ServiceAccount', 'Pod', 'ServiceMonitor', 'PrometheusRule', 'NetworkPolicy', 'HorizontalPodAutoscaler', 'PodDisruptionBudget']) {
    t.ok(kinds.has(k), `production renders a ${k}`)
  }
  t.comment(`${count} objects validated over ${scenarios.length} scenarios`)
})

t.test('grace period covers drain + grace; the port comes from one value', async t => {
  const pod = (ms: Obj[]) => one(ms, 'Deployment').spec.template.spec
  t.equal(pod(await render('defaults-values.yaml')).terminationGracePeriodSeconds, 25, '5 drain + 10 grace + 10')
  t.equal(pod(await render('production-values.yaml')).terminationGracePeriodSeconds, 28, '8 drain + 10 grace + 10')
  await t.rejects(render('defaults-values.yaml', 'terminationGracePeriodSeconds=12'), /must exceed/)
  const ms = await render('defaults-values.yaml', 'httpPort=9090')
  t.equal(one(ms, 'ConfigMap').data?.RG_HTTP_PORT, '9090')
  t.equal(pod(ms).containers[0].ports[0].containerPort, 9090)
  t.equal(one(ms, 'Service').spec.ports[0].targetPort, 'http')
  await t.rejects(render('defaults-values.yaml', 'config.RG_HTTP_PORT=9090'), 'config.RG_HTTP_PORT is refused (no duplicate key)')
})

t.test('checksums roll the pods when the created Secret or the ConfigMap changes', async t => {
  const ann = async (...set: string[]) => one(await render('password-values.yaml', ...set), 'Deployment').spec.template.metadata.annotations as Record<string, string>
  const a = await ann()
  const b = await ann('redis.password=another-one')
  t.ok(a['checksum/secret'], 'checksum/secret present')
  t.not(a['checksum/secret'], b['checksum/secret'], 'a new password changes the pod template')
  t.equal(a['checksum/config'], b['checksum/config'])
})

t.test('ServiceAccount without token, standard labels, helm test on /readyz', async t => {
  const ms = await render('defaults-values.yaml')
  const sa = one(ms, 'ServiceAccount') as Obj & { automountServiceAccountToken?: boolean }
  t.equal(sa.automountServiceAccountToken, false)
  const pod = one(ms, 'Deployment').spec.template
  t.equal(pod.spec.serviceAccountName, sa.metadata.name)
  t.equal(pod.spec.automountServiceAccountToken, false)
  for (const labels of [pod.metadata.labels, ...ms.filter(o => o.kind !== 'Pod').map(o => o.metadata.labels)]) {
    t.match(labels, { 'app.kubernetes.io/version': '0.1.0', 'app.kubernetes.io/component': 'gateway', 'app.kubernetes.io/part-of': 'result-gateway' })
  }
  const test = one(ms, 'Pod')
  t.equal(test.metadata.annotations?.['helm.sh/hook'], 'test')
  t.match(test.spec.containers[0].args[0], /http:\/\/rg-result-gateway:8080\/readyz/)
  t.not(test.metadata.labels?.['app.kubernetes.io/name'], 'result-gateway', 'the test pod is not a Service endpoint')
})

t.test('monitoring: ServiceMonitor token, NetworkPolicy for Prometheus and Sentinel, rules and dashboard from files', async t => {
  const prod = await render('production-values.yaml')
  t.match(one(prod, 'ServiceMonitor').spec.endpoints[0].authorization, { type: 'Bearer', credentials: { name: 'result-gateway-metrics-token', key: 'token' } })
  const np = one(prod, 'NetworkPolicy').spec
  t.ok(np.ingress.some((r: { from?: Array<{ namespaceSelector?: unknown }> }) => r.from?.some(p => JSON.stringify(p.namespaceSelector ?? {}).includes('monitoring'))), 'a monitoring namespace is admitted')
  const sentinel = one(await render('sentinel-values.yaml'), 'NetworkPolicy').spec
  t.ok(JSON.stringify(sentinel.egress).includes('26379'), 'Sentinel port in egress')
  t.notOk(JSON.stringify(np.egress).includes('26379'), 'not without Sentinel')

  const rules = parse(readFileSync(`${CHART}/files/result-gateway.rules.yaml`, 'utf8')) as { groups: unknown }
  t.same(one(prod, 'PrometheusRule').spec.groups, rules.groups, 'the PrometheusRule is the shipped rules file')
  const custom = await render('production-values.yaml', 'prometheusRule.runbookBaseUrl=https://wiki.example/rg')
  t.match(JSON.stringify(one(custom, 'PrometheusRule').spec), /https:\/\/wiki\.example\/rg#resultgatewayredisunreachable/)
  const dash = one(prod, 'ConfigMap', 'rg-result-gateway-dashboard')
  t.equal(dash.metadata.labels?.grafana_dashboard, '1')
  t.same(JSON.parse(dash.data?.['result-gateway.json'] ?? ''), JSON.parse(readFileSync(`${CHART}/files/grafana-dashboard.json`, 'utf8')))
  const defaults = await render('defaults-values.yaml')
  t.notOk(defaults.some(o => o.kind === 'PrometheusRule' || o.metadata.name.endsWith('-dashboard')), 'rules and dashboard are off by default')
})

t.test('values.schema.json is generated from the config schema and refuses RG_* typos', async t => {
  t.equal(readFileSync(VALUES_SCHEMA_PATH, 'utf8'), renderValuesSchema(), 'run `npm run helm-schema`')
  await t.rejects(render('defaults-values.yaml', 'config.RG_WAIT_MAX_SECOND=5'), 'a typo fails')
  await t.rejects(render('defaults-values.yaml', 'config.RG_LOG_LEVEL=loud'), 'a bad enum fails')
  await t.rejects(render('defaults-values.yaml', 'config.RG_WAIT_MAX_WAITERS=many'), 'a non-number fails')
  await t.resolves(render('defaults-values.yaml', 'config.RG_WAIT_MAX_WAITERS=500', 'config.RG_REDIS_TLS=true'))
})
