/**
 * openapi.yaml as code generators and validators meet it: Redocly (recommended rules) and Spectral (oas ruleset)
 * at zero errors and zero warnings (ignores live in .redocly.lint-ignore.yaml, each with its reason), and every
 * `pattern` compiles under RE2 semantics (Go's regexp, Rust's regex), which have no look-around.
 */
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'
import { RE2 } from 're2-wasm'
import { parse } from 'yaml'
import { OPENAPI_PATH } from '../../scripts/openapi.js'

const run = promisify(execFile)
const root = fileURLToPath(new URL('../../', import.meta.url))
const bin = (name: string) => `${root}node_modules/.bin/${name}`

/** Tests reach only loopback: Redocly's telemetry and update check stay off. */
const QUIET = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_UPDATE_NOTIFIER: '1' }

/** Runs a linter that may exit non-zero on findings; its stdout is the report either way. */
async function lint (cmd: string, args: string[]): Promise<string> {
  try {
    return (await run(cmd, args, { cwd: root, maxBuffer: 16 << 20, env: QUIET })).stdout
  } catch (err) {
    const out = (err as { stdout?: string }).stdout
    if (typeof out === 'string' && out.length > 0) return out
    throw err
  }
}

t.test('redocly lint (recommended): no errors, no warnings', async t => {
  const out = await lint(bin('redocly'), ['lint', '--extends=recommended', '--format=json', OPENAPI_PATH])
  const report = JSON.parse(out) as { totals: { errors: number, warnings: number }, problems: Array<{ ruleId: string, message: string }> }
  t.same(report.problems.map(p => `${p.ruleId}: ${p.message}`), [], 'no problems')
  t.same({ errors: report.totals.errors, warnings: report.totals.warnings }, { errors: 0, warnings: 0 })
})

t.test('spectral lint (oas ruleset): no errors, no warnings', async t => {
  const out = await lint(bin('spectral'), ['lint', OPENAPI_PATH, '--ruleset', `${root}.spectral.yaml`, '--fail-severity=hint', '-f', 'json'])
  const findings = JSON.parse(out.slice(out.indexOf('['), out.lastIndexOf(']') + 1)) as Array<{ code: string, message: string, path: string[] }>
  t.same(findings.map(f => `${f.code}: ${f.message} at ${f.path.join('.')}`), [])
})

/** Every `pattern` in the document, with where it is. */
function patterns (node: unknown, path: string, out: Array<[string, string]>): Array<[string, string]> {
  if (Array.isArray(node)) node.forEach((v, i) => patterns(v, `${path}/${i}`, out))
  else if (typeof node === 'object' && node !== null) {
    for (const [k, v] of Object.entries(node)) {
      if (k === 'pattern' && typeof v === 'string') out.push([path, v])
      else patterns(v, `${path}/${k}`, out)
    }
  }
  return out
}

t.test('every pattern compiles under RE2', async t => {
  const found = patterns(parse(readFileSync(OPENAPI_PATH, 'utf8')), '#', [])
  t.ok(found.length >= 4, 'the task id, state, exception type and cursor patterns are there')
  for (const [where, source] of found) {
    t.doesNotThrow(() => new RE2(source, 'u'), `${where}: ${source}`)
  }
  t.throws(() => new RE2('^(?!.*\\.\\.)a$', 'u'), 'RE2 refuses a look-ahead (the check above means something)')
})

t.test('the RE2-safe task id pattern keeps the old rule: no "..", at most 255 characters', async t => {
  const spec = parse(readFileSync(OPENAPI_PATH, 'utf8')) as { components: { schemas: { TaskId: { pattern: string, maxLength: number } } } }
  const { pattern, maxLength } = spec.components.schemas.TaskId
  const re = new RE2(pattern, 'u')
  for (const ok of ['a', 'd06bfa71-85ad-4e6b-beba-6a62b483c6c0', 'a.b.c', 'job.', 'x:y@z+1_2']) t.ok(re.test(ok), ok)
  for (const bad of ['', '.a', 'a..b', 'a..', '-a', 'a/b', 'a b']) t.notOk(re.test(bad), bad)
  t.equal(maxLength, 255)
})
