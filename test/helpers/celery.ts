/**
 * Real Celery for the compatibility tests: Debian's python3-celery run with /usr/bin/python3, a worker
 * (--pool=solo) on its own queue, and test/fixtures/celery-app/client.py for Celery's client side.
 * RG_TEST_CELERY_PATH (a folder of Celery's pure-Python sources, e.g. Celery 5.6) is put first on
 * PYTHONPATH, so the same tests run against another Celery release (npm run test:celery).
 * Workers are stopped by pid in t.teardown.
 */
import { randomBytes } from 'node:crypto'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { spawnTied, stopProcess } from '../../src/redis/spawn.js'

export const PYTHON = '/usr/bin/python3'
const APP_DIR = fileURLToPath(new URL('../fixtures/celery-app/', import.meta.url))
const INSTALL = 'install python3-celery python3-redis python3-msgpack (apt-get install -y python3-celery python3-redis python3-msgpack)'
/** Another Celery release's sources to run instead of Debian's (absolute, so workers started elsewhere see it). */
const CELERY_PATH = process.env.RG_TEST_CELERY_PATH === undefined || process.env.RG_TEST_CELERY_PATH === ''
  ? undefined
  : resolve(process.env.RG_TEST_CELERY_PATH)

interface TapLike { teardown: (fn: () => unknown) => void }

export interface CeleryEnv {
  redisPort: number
  queue?: string
  serializer?: 'json' | 'msgpack'
  extended?: boolean
  compression?: 'gzip'
  expires?: number | 'none'
  /** result_backend URL instead of redis://…:redisPort/0 (e.g. Celery's sentinel://…;sentinel://…) */
  backend?: string
  /** result_backend_transport_options master_name, for a sentinel:// backend */
  masterName?: string
  /** result_backend_transport_options global_keyprefix (Celery ≥ 5.3) */
  keyPrefix?: string
  /** the app's timezone (Celery ≥ 5.5 writes date_done in it) */
  timezone?: string
}

function baseEnv (): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin' }
  if (CELERY_PATH !== undefined) env.PYTHONPATH = CELERY_PATH
  return env
}

function pyEnv (c: CeleryEnv): Record<string, string> {
  return {
    ...baseEnv(),
    HOME: process.env.HOME ?? '/tmp',
    PYTHONDONTWRITEBYTECODE: '1',
    PYTHONUNBUFFERED: '1',
    RG_TEST_BROKER: `redis://127.0.0.1:${c.redisPort}/1`,
    RG_TEST_BACKEND: c.backend ?? `redis://127.0.0.1:${c.redisPort}/0`,
    RG_TEST_MASTER_NAME: c.masterName ?? '',
    RG_TEST_QUEUE: c.queue ?? 'celery',
    RG_TEST_SERIALIZER: c.serializer ?? 'json',
    RG_TEST_EXTENDED: c.extended === true ? '1' : '0',
    RG_TEST_COMPRESSION: c.compression ?? '',
    RG_TEST_EXPIRES: String(c.expires ?? 86400),
    RG_TEST_KEYPREFIX: c.keyPrefix ?? '',
    RG_TEST_TIMEZONE: c.timezone ?? ''
  }
}

function run (args: string[], env: Record<string, string>) {
  return spawnTied(PYTHON, args, { cwd: APP_DIR, env })
}

let version: Promise<[number, number]> | undefined

/** The Celery release under test as [major, minor]; fails (never skips) with what to install when it is missing. */
export function celeryVersion (): Promise<[number, number]> {
  version ??= new Promise((resolve, reject) => {
    const child = run(['-c', 'import celery, redis, msgpack; print(celery.__version__)'], baseEnv())
    let out = ''
    child.stdout.on('data', (d: Buffer) => { out += d.toString() })
    child.once('error', () => reject(new Error(`Celery is not available to ${PYTHON}: ${INSTALL}`)))
    child.once('exit', code => {
      const m = /^(\d+)\.(\d+)/.exec(out.trim())
      if (code !== 0 || m === null) {
        reject(new Error(CELERY_PATH === undefined
          ? `Celery is not available to ${PYTHON}: ${INSTALL}`
          : `Celery from RG_TEST_CELERY_PATH=${CELERY_PATH} does not import: ${INSTALL} python3-tzlocal python3-dateutil`))
      } else resolve([Number(m[1]), Number(m[2])])
    })
  })
  return version
}

/** True when the Celery under test is at least major.minor. */
export async function celeryAtLeast (major: number, minor: number): Promise<boolean> {
  const [a, b] = await celeryVersion()
  return a > major || (a === major && b >= minor)
}

/** Fails (never skips) with the packages to install when Celery is missing. */
export async function requireCelery (): Promise<void> {
  await celeryVersion()
}

/** Starts a worker consuming its own random queue; resolves once Celery logs "ready.". */
export async function startWorker (t: TapLike, c: CeleryEnv): Promise<CeleryEnv & { queue: string }> {
  await requireCelery()
  const env = { ...c, queue: c.queue ?? `q-${randomBytes(4).toString('hex')}` }
  const child = run(['-m', 'celery', '-A', 'tasks', 'worker', '--pool=solo', '--concurrency=1', '--without-gossip',
    '--without-mingle', '--without-heartbeat', '-Q', env.queue, '-n', `${env.queue}@localhost`, '--loglevel=INFO'], pyEnv(env))
  t.teardown(() => stopProcess(child))
  let output = ''
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString()
      if (/ready\./.test(output)) resolve()
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.once('exit', code => reject(new Error(`celery worker exited with ${code}:\n${output.slice(-2000)}`)))
    setTimeout(() => reject(new Error(`celery worker not ready after 60 s:\n${output.slice(-2000)}`)), 60_000).unref()
  })
  return env
}

/** Runs client.py and resolves with every JSON line it printed. */
export function client (c: CeleryEnv, args: string[]): { lines: AsyncGenerator<unknown>, done: Promise<unknown[]> } {
  const child = run(['client.py', ...args], pyEnv(c))
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const seen: unknown[] = []
  const waiting: Array<(v: IteratorResult<unknown>) => void> = []
  let buffer = ''
  let ended = false
  child.stdout.on('data', (d: Buffer) => {
    buffer += d.toString()
    let nl
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl).trim()
      buffer = buffer.slice(nl + 1)
      if (line === '') continue
      const value: unknown = JSON.parse(line)
      seen.push(value)
      waiting.shift()?.({ value, done: false })
    }
  })
  const done = new Promise<unknown[]>((resolve, reject) => {
    child.once('exit', code => {
      ended = true
      for (const w of waiting.splice(0)) w({ value: undefined, done: true })
      if (code === 0) resolve(seen)
      else reject(new Error(`client.py ${args.join(' ')} exited with ${code}: ${stderr.slice(-2000)}`))
    })
  })
  async function * lines (): AsyncGenerator<unknown> {
    let i = 0
    for (;;) {
      if (i < seen.length) { yield seen[i++]; continue }
      if (ended) return
      await new Promise<IteratorResult<unknown>>(resolve => waiting.push(resolve))
    }
  }
  return { lines: lines(), done }
}

/** client.py's output, last line. */
export async function clientResult<T> (c: CeleryEnv, args: string[]): Promise<T> {
  const out = await client(c, args).done
  return out.at(-1) as T
}
