/**
 * Which of the commands the gateway sends (./commands.ts, the ACL rule's list) its Redis user may not run, asked of Redis without
 * changing anything and without admin rights: ACL DRYRUN and ACL GETUSER are @admin commands a least-privilege
 * user does not have, and ACL LOG is @admin too. Instead each command is sent as the gateway sends it, on the
 * gateway's own key and channel shapes: read-only ones as they are; writes queued inside MULTI, where Redis
 * checks the ACL as it queues (NOPERM) and a deliberate arity error then makes EXEC discard the whole
 * transaction (EXECABORT), so nothing runs. Needs only MULTI and EXEC, which the rule grants.
 */
import type { Redis } from 'ioredis'
import { groupKey, rateLimitNamespace, taskKey } from '../celery/keys.js'
import { ACL_COMMANDS } from './commands.js'

interface ProbeKeys { task: string, group: string, rate: string }

/** Arguments shaped like the gateway's own (same key and channel patterns), per command of the ACL rule. */
const PROBE_ARGS: Record<string, (k: ProbeKeys) => string[]> = {
  get: k => [k.task],
  set: k => [k.task, 'x'],
  del: k => [k.task],
  mget: k => [k.task, k.group],
  expire: k => [k.task, '1'],
  persist: k => [k.task],
  ttl: k => [k.task],
  zcard: k => [`${k.group}.j`],
  llen: k => [`${k.group}.j`],
  publish: k => [k.task, 'x'],
  evalsha: k => ['0000000000000000000000000000000000000000', '1', k.task],
  eval: k => ['return 1', '1', k.task],
  info: () => ['memory'],
  'client|setname': () => ['result-gateway:doctor'],
  pexpire: k => [k.rate, '1'],
  incr: k => [k.rate],
  pttl: k => [k.rate],
  wait: () => ['0', '0'],
  type: k => [k.task]
}

const probeKeys = (prefix: string): ProbeKeys =>
  ({ task: taskKey(prefix, 'doctor-acl-probe'), group: groupKey(prefix, 'doctor-acl-probe'), rate: `${rateLimitNamespace(prefix)}doctor` })

/** Commands that change something: only ever sent inside the discarded transaction. */
const WRITES = new Set(['set', 'del', 'expire', 'persist', 'publish', 'evalsha', 'eval', 'pexpire', 'incr'])
/** Not probed on their own: the transaction itself, and pub/sub mode (its replies change the connection). */
const SKIP = new Set(['multi', 'exec', 'subscribe', 'unsubscribe'])

const denied = (err: unknown): boolean => err instanceof Error && /^NOPERM/.test(err.message)
const argv = (name: string, args: string[]): [string, ...string[]] => [...name.split('|'), ...args] as [string, ...string[]]

/**
 * The commands (lower case, `a|b` for subcommands) the connection's user may not run with the gateway's keys
 * (`missing`), and those that could not be asked (`unchecked`: the writes, when MULTI itself is denied).
 * `conn` must be a connection of its own (no auto-pipelining: nothing else may land inside the transaction).
 */
export async function missingPermissions (conn: Redis, prefix: string): Promise<{ missing: string[], unchecked: string[] }> {
  const keys = probeKeys(prefix)
  const missing: string[] = []
  const ask = async (name: string): Promise<void> => {
    const [command, ...args] = argv(name, PROBE_ARGS[name]?.(keys) ?? [])
    await conn.call(command, ...args).catch((err: unknown) => { if (denied(err)) missing.push(name) })
  }
  const names = ACL_COMMANDS.filter(n => !SKIP.has(n))
  for (const name of names.filter(n => !WRITES.has(n))) await ask(name)
  // SUBSCRIBE's permission is the channel's: a PUBLISH on the same channel is refused for the same reason.
  const begun = await conn.call('MULTI').then(() => true, (err: unknown) => { if (denied(err)) missing.push('multi'); return false })
  if (!begun) return { missing, unchecked: names.filter(n => WRITES.has(n)) }
  for (const name of names.filter(n => WRITES.has(n))) await ask(name)
  await conn.call('GET').catch(() => {}) // wrong arity: EXEC now discards everything queued
  await conn.call('EXEC').catch((err: unknown) => { if (denied(err)) missing.push('exec') })
  return { missing, unchecked: [] }
}
