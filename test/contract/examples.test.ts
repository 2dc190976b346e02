/**
 * The client examples in examples/ run against a live gateway (API tokens on) and a real redis-server, so they
 * cannot rot: Python (stdlib), Go (stdlib, Debian's golang-go), shell (curl + jq) and TypeScript (types
 * generated from openapi.yaml, which must be current). Each does store → wait → fetch → 409 → 404 → forget.
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { Redis } from 'ioredis'
import t from 'tap'
import { buildTestApp } from '../helpers/app.js'
import { startRedis } from '../helpers/redis-server.js'

const run = promisify(execFile)
const root = fileURLToPath(new URL('../../', import.meta.url))
const examples = join(root, 'examples')
const TOKEN = 'example-token-0123456789'
// A cold Go build of net/http takes a while on a loaded 2-core box; later runs reuse the cache.
t.setTimeout(300_000)

/** The path of a binary, or a failure that says what to install (tests never skip). */
async function need (binary: string, pkg: string): Promise<string> {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    if (existsSync(join(dir, binary))) return join(dir, binary)
  }
  throw new Error(`${binary} not found: install ${pkg} (apt-get install ${pkg}; listed in scripts/packages/test.txt)`)
}

t.test('api.d.ts is generated from the current openapi.yaml', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'rg-ots-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  await run(join(root, 'node_modules/.bin/openapi-typescript'), [join(root, 'openapi.yaml'), '-o', join(dir, 'api.d.ts')], { cwd: root })
  t.equal(readFileSync(join(dir, 'api.d.ts'), 'utf8'), readFileSync(join(examples, 'typescript/api.d.ts'), 'utf8'),
    'run: npx openapi-typescript openapi.yaml -o examples/typescript/api.d.ts')
})

t.test('every example runs against a live gateway', async t => {
  const python = '/usr/bin/python3'
  if (!existsSync(python)) throw new Error('install python3 (apt-get install python3)')
  const [go] = await Promise.all([need('go', 'golang-go'), need('curl', 'curl'), need('jq', 'jq')])
  const server = await startRedis(t)
  const app = await buildTestApp(t, server.url, {
    RG_AUTH_DISABLED: 'false',
    RG_AUTH_TOKENS: JSON.stringify([{ name: 'example', token: TOKEN, scopes: ['read', 'write'] }])
  })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const redis = new Redis(server.port, '127.0.0.1')
  t.teardown(() => redis.quit())
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: tmpdir(),
    RG_URL: base,
    RG_TOKEN: TOKEN,
    // Go: the Debian toolchain as is, no network, a build cache outside the work tree.
    GOTOOLCHAIN: 'local',
    GOPROXY: 'off',
    GOFLAGS: '',
    GOCACHE: join(tmpdir(), 'result-gateway-gocache')
  }
  const cases: Array<[string, string, string[], string]> = [
    ['python', python, [join(examples, 'python/store_wait_fetch.py')], examples],
    ['go', go, ['run', '.'], join(examples, 'go')],
    ['shell', '/bin/sh', [join(examples, 'shell/store-wait-fetch.sh')], examples],
    ['typescript', process.execPath, ['--import', 'tsx', join(examples, 'typescript/store-wait-fetch.ts')], root]
  ]
  for (const [name, cmd, args, cwd] of cases) {
    const taskId = `example-${name}-${Date.now()}`
    const { stdout } = await run(cmd, [...args, taskId], { cwd, env, timeout: 240_000 }).catch((err: { stdout?: string, stderr?: string, message: string }) => {
      throw new Error(`${name} example failed: ${err.message}\n${err.stdout ?? ''}${err.stderr ?? ''}`)
    })
    t.same(stdout.trim().split('\n'), ['store: 200', 'wait: 200', 'fetch: 200', 're-store: 409', 'unknown task: 404', 'forget: 204', 'ok'], name)
    t.equal(await redis.exists(`${app.settings.redis.keyPrefix}celery-task-meta-${taskId}`), 0, `${name}: the result was forgotten`)
  }
})
