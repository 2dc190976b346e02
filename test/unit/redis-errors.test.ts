import t from 'tap'
import { classifyRedisError, isUnavailable, RedisDeadlineError, unavailableReason } from '../../src/redis/errors.js'

t.test('classification decides the answer and whether a retry is safe', async t => {
  for (const m of ['MOVED 4779 127.0.0.1:7001', 'ASK 1 127.0.0.1:7002', 'TRYAGAIN x', 'CLUSTERDOWN The cluster is down', 'LOADING Redis is loading',
    'READONLY You can\'t write against a read only replica.', 'MASTERDOWN Link with MASTER is down', 'Too many Cluster redirections. Last error: MOVED 1 x']) {
    t.equal(classifyRedisError(new Error(m)), 'refused', m)
  }
  for (const m of ['Command timed out', 'Connection is closed.', 'read ECONNRESET', 'connect ECONNREFUSED 127.0.0.1:1']) t.equal(classifyRedisError(new Error(m)), 'lost', m)
  t.equal(classifyRedisError(new RedisDeadlineError(5)), 'lost')
  t.equal(classifyRedisError(new Error('WRONGPASS invalid username-password pair or user is disabled.')), 'auth')
  t.equal(classifyRedisError(new Error('NOAUTH Authentication required.')), 'auth')
  t.equal(classifyRedisError(new Error('WRONGTYPE Operation against a key holding the wrong kind of value')), 'wrongtype')
  t.equal(classifyRedisError(new Error('NOPERM this user has no permissions')), 'denied')
  t.equal(classifyRedisError(new Error('OOM command not allowed when used memory > \'maxmemory\'.')), 'full', 'OOM: writes refused (#24)')
  t.equal(classifyRedisError(new Error('MISCONF Redis is configured to save RDB snapshots, but it\'s currently unable to persist to disk.')), 'full')
  t.equal(classifyRedisError(new Error('ERR The user executing the script can\'t run this command or subcommand script: 31e7, on @user_script:1.')), 'denied', 'NOPERM inside a script')
  t.equal(classifyRedisError(new Error('ERR unknown command \'evalsha\'')), 'other', 'a reply without a row')
  t.equal(classifyRedisError('a string'), 'other')
  t.ok(isUnavailable(new Error('WRONGPASS x')) && isUnavailable(new Error('MOVED 1 x')) && !isUnavailable(new Error('OOM x')))
  t.notMatch(unavailableReason(new Error('MOVED 4779 127.0.0.1:7001')), /127\.0\.0\.1|4779/, 'the reason never names a node')
})
