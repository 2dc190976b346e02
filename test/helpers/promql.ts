/**
 * What PromQL (alert rules, dashboard panels) may name: the series a real gateway exports. Metric names are
 * pulled out of an expression by dropping label matchers, grouping clauses, ranges and strings, then keeping
 * the identifiers that are not functions, keywords or Grafana variables.
 */
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'

const KEYWORDS = new Set(['and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'inf', 'nan'])

export function metricNames (expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\w+/g, ' ')
  const names = new Set<string>()
  for (const m of stripped.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?/g)) {
    const [, name = '', call] = m
    if (call !== undefined || KEYWORDS.has(name.toLowerCase()) || /^\d/.test(name)) continue
    names.add(name)
  }
  return [...names]
}

/** Every series name a gateway exports (histograms as _bucket/_sum/_count), read from a real registry. */
export async function exportedSeriesNames (): Promise<Set<string>> {
  const app = await buildApp(loadConfig({ RG_REDIS_URL: 'redis://127.0.0.1:6379/0', RG_LOG_LEVEL: 'silent', RG_AUTH_DISABLED: 'true', RG_STATS_INTERVAL_SECONDS: '0' }))
  try {
    await app.ready()
    const names = new Set<string>()
    for (const m of await app.metrics.registry.getMetricsAsJSON()) {
      if (String(m.type) === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(m.name + s)
      else names.add(m.name)
    }
    return names
  } finally {
    await app.close()
  }
}
