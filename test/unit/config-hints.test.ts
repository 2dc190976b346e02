import t from 'tap'
import { closestKnown, knownVariables, unknownVariableWarnings } from '../../src/config-hints.js'
import { ConfigError, enumValues, loadConfig } from '../../src/config.js'

t.test('unknown RG_* variables are named with the closest known one; others are left alone', async t => {
  t.same(unknownVariableWarnings({ RG_WAIT_MAX_SECOND: '5', RG_LOG_LEVL: 'debug', PATH: '/bin', REDIS_HOST: 'x', RG_LOG_LEVEL: 'info', RG_REDIS_PASSWORD_FILE: '/f', RG_SETUP_SKIP_PACKAGES: '1' }), [
    'RG_LOG_LEVL is not a result-gateway variable and is ignored; did you mean RG_LOG_LEVEL?',
    'RG_WAIT_MAX_SECOND is not a result-gateway variable and is ignored; did you mean RG_WAIT_MAX_SECONDS?'
  ])
  t.equal(closestKnown('RG_SHUTDOWN_DRAIN'), 'RG_SHUTDOWN_DRAIN_SECONDS')
  t.ok(knownVariables().includes('RG_AUTH_TOKENS_FILE'))
})

t.test('an enum error is one line with the choices', async t => {
  t.same(enumValues('RG_RESULT_SERIALIZER'), ['json', 'msgpack'])
  t.equal(enumValues('RG_HTTP_PORT'), null)
  const err = t.throws(() => loadConfig({ RG_RESULT_SERIALIZER: 'pickle', RG_AUTH_DISABLED: 'true' })) as ConfigError
  t.same(err.problems, ['RG_RESULT_SERIALIZER: must be one of json, msgpack (got "pickle")'])
})
