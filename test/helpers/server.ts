/** Runs src/server.ts as a real child process (stopped by pid in t.teardown). */
import { spawn } from 'node:child_process'
import { stopProcess } from '../../src/redis/spawn.js'

const SERVER = new URL('../../src/server.ts', import.meta.url).pathname

/**
 * Runs src/server.ts as a real child process with only the given env (plus PATH) and arguments. No drain
 * unless the test asks for one (RG_SHUTDOWN_DRAIN_SECONDS): the tests that stop it need no load balancer.
 */
export function runServer (t: { teardown: (fn: () => unknown) => void }, env: Record<string, string>, args: string[] = []) {
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER, ...args], {
    // No load shedding either (as in testConfig): on a loaded CI box event-loop lag would turn into stray 503s.
    env: { PATH: process.env.PATH ?? '', RG_SHUTDOWN_DRAIN_SECONDS: '0', RG_LOAD_MAX_EVENT_LOOP_DELAY_MS: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  child.stdout.on('data', (c: Buffer) => { output += c.toString() })
  child.stderr.on('data', (c: Buffer) => { output += c.toString() })
  const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)))
  t.teardown(() => stopProcess(child))
  const listening = async (): Promise<void> => {
    // The harness's 30 s deadline: a start takes seconds when the whole suite runs on a loaded 2-core box.
    for (let i = 0; i < 600 && !/Server listening/.test(output); i++) {
      if (child.exitCode !== null) break
      await new Promise(resolve => setTimeout(resolve, 50))
    }
    if (!/Server listening/.test(output)) throw new Error(`server did not start:\n${output}`)
  }
  return { child, exited, listening, output: () => output }
}
