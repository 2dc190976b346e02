/**
 * Development and test tooling, not part of the gateway's Redis layer: starts a throwaway redis-server on a
 * free loopback port and stops it by pid (nothing is persisted to disk), and spawns child processes tied to
 * this one. Used by `npm start` without RG_REDIS_URL (server.ts imports it dynamically, only then: a
 * configured gateway never loads it), by test/helpers and by bench/. Nothing else in src/ may import it.
 */
import { spawn, type ChildProcess, type ChildProcessByStdio, type SpawnOptions } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Readable, Writable } from 'node:stream'

export interface SpawnedRedis {
  url: string
  port: number
  pid: number
  process: ChildProcess
  stop: () => Promise<void>
}

export function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      srv.close(() => typeof addr === 'object' && addr !== null ? resolve(addr.port) : reject(new Error('no port')))
    })
  })
}

export class MissingBinaryError extends Error {}

/** The port was free when picked and taken before the server bound it. */
export class PortInUseError extends Error {}

/**
 * Runs `start` on a free port, and again on another one if that port was taken between the pick and the bind:
 * freePort() draws from the ephemeral range, which every outgoing connection on the machine draws from too.
 */
export async function onFreePort<T> (start: (port: number) => Promise<T>, pick: () => Promise<number> = freePort, tries = 5): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await start(await pick())
    } catch (err) {
      if (!(err instanceof PortInUseError) || i >= tries) throw err
    }
  }
}

/** util-linux's setpriv (in every Debian/Ubuntu base system); absent on macOS, where children are not tied. */
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find(p => existsSync(p))

/**
 * spawn(), with the child tied to this process: if this process dies without stopping it (SIGKILL, a test
 * runner's timeout), the kernel kills the child too (PR_SET_PDEATHSIG through `setpriv --pdeathsig`, which then
 * execs the command under the same pid). A missing command then exits 127 instead of failing with ENOENT.
 * stdout and stderr are pipes (read them, or resume() them); stdin is ignored unless asked for. Use
 * onMissingCommand() to tell a missing command apart, tied or not.
 */
export function spawnTied (command: string, args: readonly string[], options: Omit<SpawnOptions, 'stdio'> & { stdin?: 'ignore' | 'pipe' } = {}): ChildProcessByStdio<Writable | null, Readable, Readable> {
  const { stdin = 'ignore', ...rest } = options
  const [file, argv] = SETPRIV === undefined ? [command, args] : [SETPRIV, ['--pdeathsig', 'KILL', '--', command, ...args]]
  return stdin === 'pipe'
    ? spawn(file, argv, { ...rest, stdio: ['pipe', 'pipe', 'pipe'] })
    : spawn(file, argv, { ...rest, stdio: ['ignore', 'pipe', 'pipe'] })
}

/** Calls `missing` once if the command of a spawnTied() child does not exist: ENOENT untied, exit 127 under setpriv. */
export function onMissingCommand (child: ChildProcess, missing: () => void): void {
  child.once('error', (err: NodeJS.ErrnoException) => { if (err.code === 'ENOENT') missing() })
  child.once('exit', code => { if (code === 127) missing() })
}

/** Runs `binary` with redis-style args and resolves once it logs that it accepts connections. */
export async function spawnRedis (binary: string, args: string[], port: number, readyPattern = /Ready to accept connections|Sentinel ID is/): Promise<SpawnedRedis> {
  const child = spawnTied(binary, args)
  let output = ''
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString()
      if (readyPattern.test(output)) resolve()
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    onMissingCommand(child, () => reject(new MissingBinaryError(`${binary} not found: install it (apt-get install -y redis-server redis-sentinel redis-tools)`)))
    child.once('error', reject)
    // 'close', not 'exit': the last of its output may still be in the pipe when it has exited.
    child.once('close', (code) => {
      const message = `${binary} exited with ${code}: ${output.slice(-500)}`
      reject(/Address already in use/.test(output) ? new PortInUseError(message) : new Error(message))
    })
  })
  child.stdout.removeAllListeners('data').resume()
  child.stderr.removeAllListeners('data').resume()
  const pid = child.pid ?? 0
  return {
    url: `redis://127.0.0.1:${port}/0`,
    port,
    pid,
    process: child,
    stop: () => stopProcess(child)
  }
}

/** SIGTERM, then SIGKILL after 3 s; resolves when the process has exited. */
export function stopProcess (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise(resolve => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 3000)
    child.once('exit', () => { clearTimeout(kill); resolve() })
    child.kill('SIGTERM')
  })
}

/**
 * A redis-server that keeps nothing: no snapshots, no AOF, and its working directory (where a master still
 * writes the RDB it sends to replicas) a private temporary one, removed when it stops.
 */
export async function startRedisServer (extraArgs: string[] = []): Promise<SpawnedRedis> {
  return onFreePort(port => startRedisServerOn(port, extraArgs))
}

async function startRedisServerOn (port: number, extraArgs: string[]): Promise<SpawnedRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'rg-redis-'))
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extraArgs]
  try {
    const redis = await spawnRedis('redis-server', args, port)
    const stop = redis.stop
    return { ...redis, stop: async () => { await stop(); rmSync(dir, { recursive: true, force: true }) } }
  } catch (err) {
    rmSync(dir, { recursive: true, force: true })
    throw err
  }
}
