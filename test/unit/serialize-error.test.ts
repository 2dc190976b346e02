import t from 'tap'
import { serializeError } from '../../src/logging/serialize-error.js'

const withCommand = (message: string, name: string, args: unknown[]): Error => Object.assign(new Error(message), { command: { name, args } })

t.test('serializeError keeps the command name and drops its arguments', async t => {
  const s = serializeError(withCommand('WRONGPASS invalid\nsecond line', 'auth', ['the-old-password']))
  t.match(s, { type: 'Error', message: 'WRONGPASS invalid', command: 'auth' })
  t.notMatch(JSON.stringify(s), /the-old-password|second line/)
  t.notOk('stack' in serializeError(new Error('x'), false), 'no stack when not asked for')
  t.equal(serializeError(withCommand('x', 'not a name!', [])).command, undefined, 'an odd command name is not logged')
})
