import { readFileSync } from 'node:fs'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { ConfigSchema, loadConfig } from '../../src/config.js'
import { PROBLEM_TYPES } from '../../src/errors.js'
import { OPENAPI_PATH, renderOpenApiYaml } from '../../scripts/openapi.js'

const root = new URL('../../', import.meta.url)
const read = (path: string) => readFileSync(new URL(path, root), 'utf8')

t.test('openapi.yaml matches the route schemas (run `npm run openapi` after changing a route)', async t => {
  t.equal(readFileSync(OPENAPI_PATH, 'utf8'), await renderOpenApiYaml())
})

t.test('docs/configuration.md documents every variable, docs/errors.md every error code', async t => {
  const config = read('docs/configuration.md')
  for (const [name, schema] of Object.entries(ConfigSchema.properties)) {
    const row = config.split('\n').find(l => l.startsWith(`| \`${name}\` |`))
    t.ok(row, `${name} has a row in the configuration table`)
    const def = (schema as { default?: unknown }).default
    if (def !== undefined && def !== '') t.match(row, `\`${String(def)}\``, `${name} default is documented`)
  }
  const errors = read('docs/errors.md')
  for (const [code, p] of Object.entries(PROBLEM_TYPES)) {
    t.match(errors, `| ${p.status} | \`${code}\` | \`/problems/${p.slug}\` | ${p.title} |`, code)
  }
})

t.test('the error table lists every code the gateway can send, and nothing else', async t => {
  const section = read('docs/errors.md')
  const listed = [...section.matchAll(/^\| \d{3} \| `(RG_[A-Z_]+)` \|/gm)].map(m => m[1])
  t.same([...listed].sort(), Object.keys(PROBLEM_TYPES).sort(), 'table rows = PROBLEM_TYPES')
  // Every error declared with createError in src/ has a row in PROBLEM_TYPES (so it has one in the table).
  const { execFileSync } = await import('node:child_process')
  const files = execFileSync('grep', ['-rl', 'createError', 'src'], { cwd: new URL('.', root), encoding: 'utf8' }).trim().split('\n')
  for (const file of files) {
    for (const m of read(file).matchAll(/createError(?:<[^>]*>)?\(\s*'([A-Z_]+)'/g)) {
      t.ok(m[1] !== undefined && m[1] in PROBLEM_TYPES, `${m[1] ?? '?'} (${file}) is in PROBLEM_TYPES`)
    }
  }
})

t.test('docs/api.md documents every operationId, and LICENSE matches package.json', async t => {
  const api = read('docs/api.md')
  const spec = read('openapi.yaml')
  const ids = [...spec.matchAll(/^ {6}operationId: (\w+)$/gm)].map(m => m[1])
  t.equal(ids.length, 25)
  for (const id of ids) t.match(api, `| \`${id ?? ''}\` |`, String(id))
  const pkg = JSON.parse(read('package.json')) as { license: string }
  t.equal(pkg.license, 'MIT')
  t.match(read('LICENSE'), /^MIT License\n/)
  t.match(read('CHANGELOG.md'), /^# Changelog\n[\s\S]*## \[Unreleased\]/)
})

t.test('docs/operations.md lists every result_gateway_* metric with its type', async t => {
  const operations = read('docs/operations.md')
  const app = await buildApp(loadConfig({ RG_REDIS_URL: 'redis://127.0.0.1:6379/0', RG_LOG_LEVEL: 'silent', RG_AUTH_DISABLED: 'true' }))
  t.teardown(() => app.close())
  await app.ready()
  const ours = (await app.metrics.registry.getMetricsAsJSON()).filter(m => m.name.startsWith('result_gateway_'))
  t.ok(ours.length >= 10)
  for (const m of ours) t.match(operations, `| \`${m.name}\` | ${m.type} | ${m.help} |`, m.name)
})

t.test('the quick start is two commands, and CI runs exactly the test one', async t => {
  const readme = read('README.md')
  const quick = /## Quick start\n\n```sh\n([^`]*)```/.exec(readme)?.[1] ?? ''
  const commands = quick.trim().split('\n').map(l => l.replace(/#.*$/, '').trim())
  t.same(commands, ['npm start', 'npm test'])
  const ci = read('.ci/run').trim().split('\n')
  t.ok(ci.includes('npm test'), '.ci/run runs the README\'s test command as it is')
  const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> }
  t.equal(pkg.scripts.pretest, 'sh scripts/setup.sh test', 'npm test installs what a bare machine lacks first')
  t.match(pkg.scripts.prestart, /^sh scripts\/setup\.sh run && /, 'so does npm start')
  t.match(pkg.scripts.test, /lint/)
  t.match(pkg.scripts.test, /tsc --noEmit|typecheck/)
  t.ok(pkg.scripts.start, 'npm start exists')
})
