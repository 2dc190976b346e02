import { readdirSync, readFileSync } from 'node:fs'
import t from 'tap'
import { parse, parseAllDocuments } from 'yaml'
import { ConfigSchema, loadConfig } from '../../src/config.js'
import { CHART, helm } from '../helpers/helm.js'

interface Manifest { kind: string, metadata: { name: string }, spec?: Record<string, unknown>, data?: Record<string, string> }
interface Container {
  env?: Array<{ name: string, value?: string, valueFrom?: { secretKeyRef?: { name: string, key: string } } }>
  envFrom?: Array<{ configMapRef?: { name: string } }>
  livenessProbe?: { httpGet: { path: string } }
  readinessProbe?: { httpGet: { path: string } }
  startupProbe?: { httpGet: { path: string } }
  securityContext?: Record<string, unknown>
}

const scenarios = readdirSync(`${CHART}/ci`).filter(f => f.endsWith('-values.yaml'))

async function render (valuesFile = 'defaults-values.yaml', ...set: string[]): Promise<Manifest[]> {
  const args = ['template', 'rg', CHART, '--namespace', 'celery', '-f', `${CHART}/ci/${valuesFile}`]
  for (const s of set) args.push('--set', s)
  return parseAllDocuments(await helm(...args)).map(d => d.toJS() as Manifest).filter(Boolean)
}

const container = (ms: Manifest[]): Container => {
  const dep = ms.find(m => m.kind === 'Deployment') as { spec: { template: { spec: { containers: Container[] } } } } | undefined
  const c = dep?.spec.template.spec.containers[0]
  if (c === undefined) throw new Error('no container rendered')
  return c
}

t.test('helm lint --strict passes for every ci scenario', async t => {
  for (const f of scenarios) await helm('lint', '--strict', CHART, '-f', `${CHART}/ci/${f}`)
  t.ok(scenarios.length >= 4, `${scenarios.length} scenarios`)
})

t.test('every scenario renders probes on real routes and a hardened pod', async t => {
  for (const f of scenarios) {
    const ms = await render(f)
    const c = container(ms)
    t.equal(c.livenessProbe?.httpGet.path, '/healthz', f)
    t.equal(c.readinessProbe?.httpGet.path, '/readyz', f)
    t.equal(c.startupProbe?.httpGet.path, '/healthz', f)
    t.match(c.securityContext, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } }, f)
    const pod = (ms.find(m => m.kind === 'Deployment') as unknown as { spec: { template: { spec: { securityContext: unknown, terminationGracePeriodSeconds: number } } } }).spec.template.spec
    t.match(pod.securityContext, { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } }, f)
    const cm = ms.find(m => m.kind === 'ConfigMap')
    t.equal(cm?.data?.RG_HTTP_HOST, '0.0.0.0', `${f}: listens on all interfaces in the pod`)
    t.ok(pod.terminationGracePeriodSeconds > Number(cm?.data?.RG_SHUTDOWN_GRACE_SECONDS ?? 10), `${f}: grace period covers the gateway's drain`)
    for (const m of ms) t.notMatch(JSON.stringify(m.data ?? {}), /change-me/, `${f}: no password in a ConfigMap`)
  }
})

t.test('secrets: created from redis.password, or read from existingSecret, never inlined', async t => {
  const created = await render('password-values.yaml')
  const secret = created.find(m => m.kind === 'Secret')
  t.equal(Buffer.from(secret?.data?.['redis-password'] ?? '', 'base64').toString(), 'change-me')
  t.match(container(created).env?.find(e => e.name === 'RG_REDIS_PASSWORD'), { valueFrom: { secretKeyRef: { name: 'rg-result-gateway', key: 'redis-password' } } })
  const existing = await render('existing-secret-values.yaml')
  t.notOk(existing.some(m => m.kind === 'Secret'), 'no Secret created when one exists')
  t.match(container(existing).env?.find(e => e.name === 'RG_REDIS_PASSWORD'), { valueFrom: { secretKeyRef: { name: 'redis-credentials', key: 'password' } } })
  const tls = await render('tls-values.yaml')
  t.match(container(tls).env?.find(e => e.name === 'RG_REDIS_URL'), { valueFrom: { secretKeyRef: { name: 'redis-tls-url', key: 'url' } } })
  t.notOk(tls.find(m => m.kind === 'ConfigMap')?.data?.RG_REDIS_URL, 'the URL is not in the ConfigMap')
  for (const ms of [created, existing, tls]) {
    t.notOk(container(ms).env?.some(e => e.value !== undefined && /pass|secret/i.test(e.name)), 'no secret as a plain env value')
  }
})

t.test('topologies: Sentinel and Cluster from docs/redis.md\'s variables, TLS files from a mounted Secret', async t => {
  const sentinel = await render('sentinel-values.yaml')
  const cm = sentinel.find(m => m.kind === 'ConfigMap')?.data ?? {}
  const env = container(sentinel).env ?? []
  t.match(cm.RG_REDIS_URL, /^sentinel:\/\/redis-node-0[^;]*;sentinel:\/\//, 'Celery\'s sentinel URL as it is')
  t.equal(cm.RG_REDIS_SENTINEL_MASTER, 'mymaster')
  t.match(env.find(e => e.name === 'RG_REDIS_SENTINEL_PASSWORD'), { valueFrom: { secretKeyRef: { name: 'redis-credentials', key: 'sentinel-password' } } })
  // The rendered settings are ones the gateway itself accepts.
  const asEnv = (data: Record<string, string>, vars: Array<{ name: string, value?: string }>) =>
    ({ ...data, ...Object.fromEntries(vars.map(e => [e.name, e.value ?? 'from-a-secret-0123456789'])) })
  const sentinelConfig = loadConfig(asEnv(cm, env.filter(e => e.name !== 'RG_AUTH_TOKENS').concat([{ name: 'RG_AUTH_DISABLED', value: 'true' }])))
  t.match(sentinelConfig.redis, { topology: { kind: 'sentinel', masterName: 'mymaster' }, sentinelPassword: 'from-a-secret-0123456789', durable: { replicas: 1 } })

  const cluster = await render('cluster-values.yaml')
  const ccm = cluster.find(m => m.kind === 'ConfigMap')?.data ?? {}
  t.notOk(ccm.RG_REDIS_URL, 'no URL in cluster mode')
  t.match(ccm.RG_REDIS_CLUSTER_NODES, /redis-cluster-0/)
  const c = container(cluster) as ReturnType<typeof container> & { volumeMounts?: Array<{ mountPath: string, readOnly: boolean }> }
  t.match(c.volumeMounts, [{ mountPath: '/etc/result-gateway/redis-tls', readOnly: true }])
  const vars = Object.fromEntries((c.env ?? []).map(e => [e.name, e.value]))
  t.match(vars, { RG_REDIS_TLS: 'true', RG_REDIS_TLS_CA_FILE: '/etc/result-gateway/redis-tls/ca.crt', RG_REDIS_TLS_CERT_FILE: '/etc/result-gateway/redis-tls/tls.crt', RG_REDIS_TLS_KEY_FILE: '/etc/result-gateway/redis-tls/tls.key', RG_REDIS_TLS_SERVERNAME: 'redis-cluster.data.svc' })
  const pod = (cluster.find(m => m.kind === 'Deployment') as unknown as { spec: { template: { spec: { volumes: unknown[] } } } }).spec.template.spec
  t.match(pod.volumes, [{ name: 'redis-tls', secret: { secretName: 'result-gateway-redis-tls', defaultMode: 0o400 } }])
  await t.rejects(render(undefined, 'config.RG_REDIS_SENTINEL_PASSWORD=x'), 'the sentinel password never in the ConfigMap')
})

t.test('optional objects appear only when asked for', async t => {
  const defaults = await render()
  for (const kind of ['ServiceMonitor', 'PodDisruptionBudget', 'HorizontalPodAutoscaler', 'NetworkPolicy', 'Secret']) {
    t.notOk(defaults.some(m => m.kind === kind), `no ${kind} by default`)
  }
  const prod = await render('production-values.yaml')
  for (const kind of ['ServiceMonitor', 'PodDisruptionBudget', 'HorizontalPodAutoscaler', 'NetworkPolicy']) {
    t.ok(prod.some(m => m.kind === kind), `${kind} when enabled`)
  }
  const dep = prod.find(m => m.kind === 'Deployment') as unknown as { spec: { replicas?: number, template: { spec: { topologySpreadConstraints?: unknown[] } } } }
  t.equal(dep.spec.replicas, undefined, 'the HPA owns the replica count')
  t.equal(dep.spec.template.spec.topologySpreadConstraints?.length, 1)
  t.match(prod.find(m => m.kind === 'ServiceMonitor')?.spec, { endpoints: [{ path: '/metrics', port: 'http' }] })
})

t.test('API tokens come from a Secret; without them the chart refuses unless auth is explicitly off', async t => {
  t.match(container(await render('production-values.yaml')).env, [{ name: 'RG_AUTH_TOKENS', valueFrom: { secretKeyRef: { name: 'result-gateway-tokens', key: 'tokens' } } }])
  await t.rejects(helm('template', 'rg', CHART), /auth\.existingSecret/)
  await t.rejects(render(undefined, 'config.RG_AUTH_TOKENS=[]'), 'tokens never in the ConfigMap')
})

t.test('values.schema.json refuses unknown keys and secrets in config', async t => {
  await t.rejects(render(undefined, 'replicas=3'), /additional properties|replicas/i)
  await t.rejects(render(undefined, 'config.RG_REDIS_PASSWORD=x'))
  await t.rejects(render(undefined, 'redis.url=redis://:pw@h:6379/0'), 'no credentials in the plain URL')
})

t.test('every config key in values.yaml is a real gateway variable', async t => {
  const values = parse(readFileSync(`${CHART}/values.yaml`, 'utf8')) as { config: Record<string, unknown> }
  const known = new Set(Object.keys(ConfigSchema.properties))
  for (const k of Object.keys(values.config)) t.ok(known.has(k), k)
  const prod = parse(readFileSync(`${CHART}/ci/production-values.yaml`, 'utf8')) as { config: Record<string, unknown>, extraEnv: Array<{ name: string }> }
  for (const k of [...Object.keys(prod.config), ...prod.extraEnv.map(e => e.name)]) t.ok(known.has(k), k)
})
