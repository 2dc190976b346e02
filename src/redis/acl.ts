/**
 * The least-privilege Redis ACL rule for the gateway (docs/security.md; tested in test/integration/acl.test.ts):
 * only its own keys and channels under the Celery prefix, only the commands it sends.
 */
const COMMANDS = [
  'get', 'set', 'del', 'mget', 'expire', 'persist', 'ttl', 'zcard', 'llen', 'publish', 'subscribe', 'unsubscribe',
  'evalsha', 'eval', 'multi', 'exec', 'ping', 'info', 'client|setname', 'pexpire', 'incr', 'pttl',
  // Durable stores (WAIT); Sentinel: ioredis checks the master's ROLE; Cluster: slot map and readiness.
  'wait', 'role', 'cluster|slots', 'cluster|info', 'readonly',
  // Tells "nothing stored" from "a list/hash/set stored" where MGET answers nil (422 instead of found=false).
  'type'
]

/** ACL SETUSER arguments for a user confined to `prefix` (Celery global_keyprefix, normalised). */
export function aclRule (prefix: string, password: string): string[] {
  return [
    'on', `>${password}`,
    `~${prefix}celery-task-meta-*`, `~${prefix}celery-taskset-meta-*`, `~${prefix}result-gateway-rate-*`,
    'resetchannels', `&${prefix}celery-task-meta-*`,
    '-@all', ...COMMANDS.map(c => `+${c}`)
  ]
}
