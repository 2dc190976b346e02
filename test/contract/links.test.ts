/**
 * The manual holds together: every relative link and #anchor in the tree's Markdown (README, docs/, bench/,
 * test/, the chart's README, examples/) reaches an existing file and heading, and every alert's runbook_url
 * (deploy/prometheus, the chart's copy, the PrometheusRule template's base) opens its section in docs/.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { anchors, links } from '../helpers/markdown.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
/** Where the alerts' runbook_url values point: this repository's files on GitHub. */
const REPO_FILES = 'https://github.com/result-gateway/result-gateway/blob/main/'
/** Not the project's own pages: dependencies, build output, test and bench artifacts. */
const SKIP = new Set(['node_modules', '.git', 'dist', '.tap', 'coverage', 'results'])

function walk (dir: string, keep: (name: string) => boolean): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap(e => {
    if (SKIP.has(e.name)) return []
    const path = dir === '' ? e.name : `${dir}/${e.name}`
    if (e.isDirectory()) return walk(path, keep)
    return keep(e.name) ? [path] : []
  })
}

const anchorCache = new Map<string, Set<string>>()
function anchorsOf (path: string): Set<string> {
  let found = anchorCache.get(path)
  if (found === undefined) anchorCache.set(path, found = anchors(readFileSync(join(ROOT, path), 'utf8')))
  return found
}

/** Why a link from `from` (a repository path) to `target` is dead, or undefined when it resolves. */
function deadLink (from: string, target: string): string | undefined {
  const hash = target.indexOf('#')
  const pathPart = hash === -1 ? target : target.slice(0, hash)
  const anchor = hash === -1 ? undefined : decodeURIComponent(target.slice(hash + 1))
  const abs = pathPart === '' ? join(ROOT, from) : resolve(pathPart.startsWith('/') ? ROOT : join(ROOT, dirname(from)), decodeURIComponent(pathPart).replace(/^\//, ''))
  const path = relative(ROOT, abs)
  if (path.startsWith('..')) return 'leaves the repository'
  if (!existsSync(abs)) return `no file ${path}`
  if (anchor === undefined) return undefined
  if (!path.endsWith('.md') || statSync(abs).isDirectory()) {
    return /^L\d+(-L\d+)?$/.test(anchor) ? undefined : `#${anchor} in ${path}, which is not a Markdown page`
  }
  return anchorsOf(path).has(anchor) ? undefined : `no heading #${anchor} in ${path}`
}

const pages = walk('', name => name.endsWith('.md')).sort()

t.test('the pages the manual is made of are all checked', async t => {
  for (const page of ['README.md', 'bench/README.md', 'helm/result-gateway/README.md', 'docs/troubleshooting.md']) {
    t.ok(pages.includes(page), page)
  }
  const docs = pages.filter(p => /^docs\/[^/]+\.md$/.test(p))
  t.ok(docs.length >= 6, `at least six pages in docs/ (${docs.join(', ')})`)
  t.ok(statSync(join(ROOT, 'README.md')).size <= 20 * 1024, 'README.md is a front page (≤ 20 KB); the manual lives in docs/')
})

t.test('every relative link and #anchor in the Markdown pages resolves', async t => {
  const dead: string[] = []
  let checked = 0
  for (const page of pages) {
    for (const { line, target } of links(readFileSync(join(ROOT, page), 'utf8'))) {
      if (/^[a-z][a-z0-9+.-]*:|^\/\//i.test(target)) continue // an absolute URL (https:, mailto:): not ours to check
      checked++
      const why = deadLink(page, target)
      if (why !== undefined) dead.push(`${page}:${line} (${target}): ${why}`)
    }
  }
  t.ok(checked > 40, `${checked} relative links checked`)
  t.same(dead, [], 'dead links')
})

t.test('every repository path the pages name in code (`src/…`, `test/…`, `scripts/…`) exists', async t => {
  const gone: string[] = []
  for (const page of pages.filter(p => p !== 'CHANGELOG.md')) { // the changelog names files as they were then
    readFileSync(join(ROOT, page), 'utf8').split('\n').forEach((text, i) => {
      for (const m of text.matchAll(/`((?:src|test|scripts|bench|helm|deploy|examples|docs|\.ci)\/[^`\s]+)`/g)) {
        const path = m[1] ?? ''
        if (/[<>*{}]/.test(path)) continue // a pattern or a placeholder, not one file
        if (!existsSync(join(ROOT, path))) gone.push(`${page}:${i + 1}: ${path}`)
      }
    })
  }
  t.same(gone, [], 'paths named in the docs that are not in the tree (moved or renamed: update the page)')
})

/** Every runbook_url written in a rules file, a rules test or a chart template, with where it is. */
function runbookUrls (): Array<{ file: string, url: string }> {
  const files = [...walk('deploy', n => /\.ya?ml$/.test(n)), ...walk('helm', n => /\.(ya?ml|tpl)$/.test(n))]
  return files.flatMap(file => [...readFileSync(join(ROOT, file), 'utf8').matchAll(/runbook_url:\s*["']?([^\s"']+)/g)]
    .map(m => ({ file, url: m[1] ?? '' })))
}

t.test('every alert\'s runbook_url opens its own section of a docs/ page', async t => {
  const urls = runbookUrls()
  const rules = readFileSync(join(ROOT, 'deploy/prometheus/result-gateway.rules.yaml'), 'utf8')
  const alerts = [...rules.matchAll(/^\s*- alert: (\w+)$/gm)].map(m => m[1] ?? '')
  t.ok(alerts.length >= 6, `${alerts.length} alerts`)
  for (const alert of alerts) {
    const own = urls.filter(u => u.file === 'deploy/prometheus/result-gateway.rules.yaml' && u.url.endsWith(`#${alert.toLowerCase()}`))
    t.equal(own.length, 1, `${alert}: its runbook_url names its own section (#${alert.toLowerCase()})`)
  }
  t.ok(urls.length >= 2 * alerts.length, `${urls.length} runbook_url values (rules, the chart's copy, the rules' tests)`)
  const bad: string[] = []
  for (const { file, url } of urls) {
    const path = url.startsWith(REPO_FILES) ? url.slice(REPO_FILES.length) : ''
    const why = /^docs\/[\w-]+\.md#[\w-]+$/.test(path) ? deadLink('', path) : `not a section of a docs/ page under ${REPO_FILES}`
    if (why !== undefined) bad.push(`${file} (${url}): ${why}`)
  }
  t.same(bad, [], 'runbook_url values that do not open a section of docs/')
})

t.test('the chart\'s runbookBaseUrl replaces a base every shipped runbook_url starts with', async t => {
  const template = readFileSync(join(ROOT, 'helm/result-gateway/templates/prometheusrule.yaml'), 'utf8')
  const base = /replace "([^"]+)" \.Values\.prometheusRule\.runbookBaseUrl/.exec(template)?.[1]
  t.ok(base?.startsWith(REPO_FILES), `the template replaces a page of this repository (${base ?? 'none'})`)
  if (base === undefined) return
  t.equal(deadLink('', base.slice(REPO_FILES.length)), undefined, `${base} exists`)
  const missed = runbookUrls().filter(u => u.file.startsWith('helm/') && !u.url.startsWith(`${base}#`)).map(u => `${u.file}: ${u.url}`)
  t.same(missed, [], 'chart runbook_url values runbookBaseUrl would not replace')
})
