/**
 * The least-privilege Redis ACL rule for the gateway (docs/security.md; tested in test/topology/acl.test.ts):
 * only its own keys and channels under the Celery prefix (patterns from celery/keys.ts), only the commands it
 * sends (redis/commands.ts).
 */
import { groupKeyPattern, rateLimitKeyPattern, taskKeyPattern } from '../celery/keys.js'
import { ACL_COMMANDS } from './commands.js'

/** ACL SETUSER arguments for a user confined to `prefix` (Celery global_keyprefix, normalised). */
export function aclRule (prefix: string, password: string): string[] {
  return [
    'on', `>${password}`,
    `~${taskKeyPattern(prefix)}`, `~${groupKeyPattern(prefix)}`, `~${rateLimitKeyPattern(prefix)}`,
    'resetchannels', `&${taskKeyPattern(prefix)}`,
    '-@all', ...ACL_COMMANDS.map(c => `+${c}`)
  ]
}

/** What webhooks need on top of aclRule (docs/webhooks.md): their keys, the PSUBSCRIBE pattern, the stream commands. */
const WEBHOOK_COMMANDS = ['hget', 'hgetall', 'hset', 'hdel', 'hmget', 'hincrby', 'xadd', 'xreadgroup', 'xautoclaim', 'xclaim', 'xack',
  'xdel', 'xlen', 'xrange', 'xgroup|create', 'zadd', 'zrem', 'zrangebyscore', 'zrange', 'psubscribe', 'punsubscribe', 'scan']

export function webhookAclRule (prefix: string): string[] {
  return [`~${prefix}rg-webhook:*`, `~${prefix}{rg-webhook}:*`, `&${prefix}celery-task-meta-*`, ...WEBHOOK_COMMANDS.map(c => `+${c}`)]
}
