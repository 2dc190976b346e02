/** Runs src/server.ts as a real child process (stopped by pid in t.teardown; killed with this test if tap kills it). */
import { spawnTied, stopProcess } from '../../src/redis/spawn.js'
import { until } from './until.js'

const SERVER = new URL('../../src/server.ts', import.meta.url).pathname
/** The tracing preload, given as `npm start` and the image give dist/tracing/register.js (a no-op without OTEL_*). */
const TRACING = new URL('../../src/tracing/register.ts', import.meta.url).href

/**
 * How long a spawned gateway may take to listen: tsx compiles the server at start, over 30 s when a 2-core
 * machine runs ~15 processes at once (seen in a loaded suite run). 90 s stays inside tap's 120 s per file.
 */
export const SERVER_START_MS = 90_000

/**
 * What every spawned test gateway gets unless a test says otherwise: no shedding on event-loop lag, which on a
 * loaded 2-core CI machine turns CPU starvation into stray 503s (as buildTestApp does; limits.test.ts turns it on
 * where shedding is the subject), and no drain (the tests that stop it need no load balancer).
 */
export const SERVER_TEST_ENV: Record<string, string> = { RG_LOAD_MAX_EVENT_LOOP_DELAY_MS: '0', RG_SHUTDOWN_DRAIN_SECONDS: '0' }

/**
 * Runs src/server.ts as a real child process with only the given env (plus PATH) and arguments; `nodeArgs`
 * go to node before the entry (e.g. one more --import).
 */
export function runServer (t: { teardown: (fn: () => unknown) => void }, env: Record<string, string>, args: string[] = [], nodeArgs: string[] = []) {
  const child = spawnTied(process.execPath, ['--import', 'tsx', ...nodeArgs, '--import', TRACING, SERVER, ...args], {
    env: { PATH: process.env.PATH ?? '', ...SERVER_TEST_ENV, ...env }
  })
  let output = ''
  child.stdout.on('data', (c: Buffer) => { output += c.toString() })
  child.stderr.on('data', (c: Buffer) => { output += c.toString() })
  const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)))
  t.teardown(() => stopProcess(child))
  const listening = async (): Promise<void> => {
    await until(() => /Server listening/.test(output) || child.exitCode !== null, 'the server to listen', SERVER_START_MS)
    if (!/Server listening/.test(output)) throw new Error(`server did not start:\n${output}`)
  }
  return { child, exited, listening, output: () => output }
}
