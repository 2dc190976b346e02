/** auth/tokens.ts: RG_AUTH_TOKENS parsed into tokens, every problem collected, no secret ever echoed. */
import t from 'tap'
import { parseTokens } from '../../src/auth/tokens.js'

const parse = (raw: string | undefined): { tokens: unknown[], problems: string[] } => {
  const problems: string[] = []
  return { tokens: parseTokens(raw, problems), problems }
}

t.test('valid tokens, key prefixes normalized as Celery does', async t => {
  t.same(parse(undefined), { tokens: [], problems: [] }, 'unset: no tokens, no problem')
  const { tokens, problems } = parse(JSON.stringify([
    { name: 'svc', token: 'a'.repeat(16), scopes: ['read', 'write'], keyPrefix: 'app1' },
    { name: 'ops', token: 'b'.repeat(16), scopes: ['admin'], keyPrefix: 'app2:' },
    { name: 'all', token: 'c'.repeat(16), scopes: ['read'] }
  ]))
  t.same(problems, [])
  t.match(tokens, [{ name: 'svc', keyPrefix: 'app1_' }, { name: 'ops', keyPrefix: 'app2:' }, { name: 'all' }])
  t.notOk('keyPrefix' in (tokens[2] as object), 'no prefix stays no prefix')
})

t.test('each problem is named, the secrets never', async t => {
  const secret = 'topsecret-value-123'
  const cases: Array<[string, RegExp]> = [
    [secret, /not valid JSON/],
    ['[]', /RG_AUTH_TOKENS: .*/],
    [JSON.stringify([{ name: 'x', token: secret, scopes: ['root'] }]), /RG_AUTH_TOKENS: \/0\/scopes\/0/],
    [JSON.stringify([{ name: 'x', token: secret, scopes: ['read'], extra: 1 }]), /RG_AUTH_TOKENS: /],
    [JSON.stringify([{ name: 'x', token: secret, scopes: ['read'] }, { name: 'x', token: `${secret}-2`, scopes: ['read'] }]), /duplicate token name x/],
    [JSON.stringify([{ name: 'x', token: secret, scopes: ['read'] }, { name: 'y', token: secret, scopes: ['read'] }]), /token y reuses another token's secret/]
  ]
  for (const [raw, problem] of cases) {
    const { problems } = parse(raw)
    t.equal(problems.length, 1, raw.slice(0, 60))
    t.match(problems[0], problem)
    t.notMatch(problems.join('\n'), secret, 'the secret is not echoed')
  }
})
