/**
 * The least-privilege Redis ACL rule for the gateway (docs/security.md; tested in test/topology/acl.test.ts):
 * only its own keys and channels under the Celery prefix (patterns from celery/keys.ts), only the commands it
 * sends (redis/commands.ts).
 */
import { groupKeyPattern, rateLimitKeyPattern, taskChannelPattern, taskKeyPattern, webhookKeyPattern, webhookStatePattern } from '../celery/keys.js'
import { ACL_COMMANDS, WEBHOOK_ACL_COMMANDS } from './commands.js'

/** ACL SETUSER arguments for a user confined to `prefix` (Celery global_keyprefix, normalised). */
export function aclRule (prefix: string, password: string): string[] {
  return [
    'on', `>${password}`,
    `~${taskKeyPattern(prefix)}`, `~${groupKeyPattern(prefix)}`, `~${rateLimitKeyPattern(prefix)}`,
    'resetchannels', `&${taskKeyPattern(prefix)}`, '&__redis__:invalidate',
    '-@all', ...ACL_COMMANDS.map(c => `+${c}`)
  ]
}

/** What webhooks need on top of aclRule (docs/webhooks.md): their keys, the PSUBSCRIBE pattern, their commands. */
export function webhookAclRule (prefix: string): string[] {
  return [`~${webhookKeyPattern(prefix)}`, `~${webhookStatePattern(prefix)}`, `&${taskChannelPattern(prefix)}`, ...WEBHOOK_ACL_COMMANDS.map(c => `+${c}`)]
}
