/**
 * The Grafana dashboard the chart ships: it parses, every panel has a query, and every query (panels and
 * template variables) names only metrics the gateway exports, so a renamed metric cannot leave it blank.
 */
import { readFileSync } from 'node:fs'
import t from 'tap'
import { exportedSeriesNames, metricNames } from '../helpers/promql.js'

const FILE = new URL('../../helm/result-gateway/files/grafana-dashboard.json', import.meta.url)

interface Panel { title: string, type: string, targets?: Array<{ expr?: string }> }
interface Dashboard { uid: string, title: string, panels: Panel[], templating: { list: Array<{ name: string, query?: unknown }> } }

t.test('the dashboard parses and queries only exported metrics', async t => {
  const d = JSON.parse(readFileSync(FILE, 'utf8')) as Dashboard
  t.equal(d.uid, 'result-gateway')
  t.ok(d.panels.length >= 10, `${d.panels.length} panels`)
  const exported = await exportedSeriesNames()
  const used = new Set<string>()
  for (const p of d.panels) {
    const exprs = (p.targets ?? []).map(x => x.expr ?? '')
    t.ok(exprs.length > 0 && exprs.every(e => e !== ''), `${p.title}: has queries`)
    for (const e of exprs) {
      for (const name of metricNames(e)) {
        used.add(name)
        t.ok(exported.has(name), `${p.title}: ${name} is exported`)
      }
    }
  }
  for (const v of d.templating.list) {
    const q = typeof v.query === 'object' && v.query !== null ? (v.query as { query?: string }).query ?? '' : ''
    const metric = /label_values\((\w+),/.exec(q)?.[1]
    if (metric !== undefined) t.ok(exported.has(metric), `variable ${v.name}: ${metric} is exported`)
  }
  // The views the issue asks for are all there.
  for (const m of ['result_gateway_http_requests_total', 'result_gateway_http_request_duration_seconds_bucket',
    'result_gateway_redis_command_duration_seconds_bucket', 'result_gateway_waiters', 'result_gateway_wake_latency_seconds_bucket',
    'result_gateway_results_fetched_total', 'result_gateway_result_keys']) t.ok(used.has(m), `a panel shows ${m}`)
})
