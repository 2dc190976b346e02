/**
 * The shipped alerts: `promtool check rules` and `promtool test rules` (series in, alert out) on
 * deploy/prometheus/, the chart's copy identical to it, every alert with severity, a runbook in docs/troubleshooting.md
 * and a firing test case, and every metric it names one the gateway exports.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { parse } from 'yaml'
import { promtool } from '../helpers/promtool.js'
import { anchors as headingAnchors } from '../helpers/markdown.js'
import { exportedSeriesNames, metricNames } from '../helpers/promql.js'

const root = new URL('../../', import.meta.url)
const DIR = fileURLToPath(new URL('deploy/prometheus/', root))
const RULES = `${DIR}result-gateway.rules.yaml`
const TESTS = `${DIR}result-gateway.rules.test.yaml`

interface Rule { alert: string, expr: string, labels?: Record<string, string>, annotations?: Record<string, string> }
const rules = (parse(readFileSync(RULES, 'utf8')) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap(g => g.rules)

t.test('promtool check rules and promtool test rules pass', async t => {
  const check = await promtool(['check', 'rules', RULES])
  t.equal(check.code, 0, check.output)
  t.match(check.output, `SUCCESS: ${rules.length} rules found`)
  const unit = await promtool(['test', 'rules', TESTS])
  t.equal(unit.code, 0, unit.output)
  t.match(unit.output, /SUCCESS/)
})

t.test('one source: the chart renders a byte-identical copy', async t => {
  t.equal(readFileSync(new URL('helm/result-gateway/files/result-gateway.rules.yaml', root), 'utf8'), readFileSync(RULES, 'utf8'),
    'cp deploy/prometheus/result-gateway.rules.yaml helm/result-gateway/files/')
})

t.test('every alert: severity, a runbook anchor in docs/troubleshooting.md, a firing test case', async t => {
  const anchors = headingAnchors(readFileSync(new URL('docs/troubleshooting.md', root), 'utf8'))
  const tests = parse(readFileSync(TESTS, 'utf8')) as { tests: Array<{ alert_rule_test: Array<{ alertname: string, exp_alerts: unknown[] }> }> }
  const cases = tests.tests.flatMap(c => c.alert_rule_test)
  const expected = ['ResultGatewayRedisUnreachable', 'ResultGatewayHighErrorRatio', 'ResultGatewayWaitersNearLimit',
    'ResultGatewayStoreRefusalsSpike', 'ResultGatewayDecodeErrors', 'ResultGatewayStatsStale',
    'ResultGatewayResultsEvicted', 'ResultGatewayRedisMemoryHigh', 'ResultGatewayRedisWritesRefused',
    'ResultGatewayWebhookBacklog', 'ResultGatewayWebhookFailures']
  t.same(rules.map(r => r.alert).sort(), [...expected].sort())
  for (const r of rules) {
    t.match(r.labels?.severity, /^(critical|warning|info)$/, `${r.alert}: severity`)
    const anchor = /\/docs\/troubleshooting\.md#([\w-]+)$/.exec(r.annotations?.runbook_url ?? '')?.[1]
    t.ok(anchor !== undefined && anchors.has(anchor), `${r.alert}: runbook_url points at a heading of docs/troubleshooting.md (${anchor ?? 'none'})`)
    t.ok(cases.some(c => c.alertname === r.alert && c.exp_alerts.length > 0), `${r.alert}: a test case where it fires`)
    t.ok(cases.some(c => c.alertname === r.alert && c.exp_alerts.length === 0), `${r.alert}: a test case where it does not`)
  }
})

t.test('the rules name only metrics the gateway exports', async t => {
  const exported = await exportedSeriesNames()
  t.ok(exported.has('result_gateway_waiters_max'), 'the limit the waiters alert compares against')
  for (const r of rules) for (const name of metricNames(r.expr)) t.ok(exported.has(name), `${r.alert}: ${name}`)
})
