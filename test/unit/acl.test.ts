/**
 * redis/acl.ts and redis/commands.ts: the least-privilege rule grants the one command list and only the
 * key patterns celery/keys.ts builds (test/topology/acl.test.ts runs it against a real Redis).
 */
import t from 'tap'
import { groupKey, rateLimitNamespace, taskKey } from '../../src/celery/keys.js'
import { aclRule } from '../../src/redis/acl.js'
import { ACL_COMMANDS, COMMAND_LABELS, REDIS_COMMANDS } from '../../src/redis/commands.js'

/** Redis's glob, enough for the patterns the rule uses (a trailing `*`, no specials in the prefix). */
const matches = (pattern: string, key: string): boolean => key.startsWith(pattern.replace(/\*$/, ''))

t.test('the rule: the prefix\'s keys and channel, the command list, nothing else', async t => {
  const rule = aclRule('app1_', 'pw')
  t.same(rule.slice(0, 2), ['on', '>pw'])
  const keys = rule.filter(r => r.startsWith('~')).map(r => r.slice(1))
  const channels = rule.filter(r => r.startsWith('&')).map(r => r.slice(1))
  for (const key of [taskKey('app1_', 't-1'), groupKey('app1_', 'g-1'), `${groupKey('app1_', 'g-1')}.j`, `${rateLimitNamespace('app1_')}token:svc`]) {
    t.ok(keys.some(p => matches(p, key)), `${key} is granted`)
  }
  for (const key of [taskKey('app2_', 't-1'), 'app1_other', taskKey('', 't-1')]) t.notOk(keys.some(p => matches(p, key)), `${key} is not`)
  t.same(channels, ['app1_celery-task-meta-*', '__redis__:invalidate'], 'Celery publishes on the task key; Redis sends the answer cache\'s invalidations on __redis__:invalidate')
  t.ok(rule.indexOf('resetchannels') < rule.indexOf('&app1_celery-task-meta-*') && rule.includes('-@all'))
  t.same(rule.filter(r => r.startsWith('+')).map(r => r.slice(1)), [...ACL_COMMANDS])
})

t.test('one command list: every name is a metrics label, each granted or saying why not', async t => {
  t.equal(new Set(REDIS_COMMANDS.map(c => c.name)).size, REDIS_COMMANDS.length, 'no command twice')
  t.equal(new Set(ACL_COMMANDS).size, ACL_COMMANDS.length, 'no grant twice')
  for (const c of REDIS_COMMANDS) {
    t.ok(COMMAND_LABELS.has(c.name))
    t.ok(c.acl.length > 0 || (c.why ?? '') !== '', `${c.name}: granted, or why not`)
    t.ok(c.acl.every(a => a === c.name || a.startsWith(`${c.name}|`)), `${c.name}: grants only itself or its subcommands`)
  }
  t.notOk(COMMAND_LABELS.has('keys'), 'KEYS is never sent')
})
