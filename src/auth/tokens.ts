/**
 * API tokens as RG_AUTH_TOKENS lists them: the schema of one token and its scopes, and the parse that turns
 * the variable into tokens (valid JSON, distinct names and secrets, key prefixes normalized as Celery does),
 * collecting problems without ever echoing a secret. plugins/auth.ts checks requests against them.
 */
import { Type, type Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { normalizeKeyPrefix } from '../celery/keys.js'

export const ScopeSchema = Type.Union([Type.Literal('read'), Type.Literal('write'), Type.Literal('admin')])
export type Scope = Static<typeof ScopeSchema>

/** One API token as RG_AUTH_TOKENS lists it. */
export const TokenSchema = Type.Object({
  name: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }),
  token: Type.String({ minLength: 16, maxLength: 512 }),
  scopes: Type.Array(ScopeSchema, { minItems: 1, uniqueItems: true }),
  keyPrefix: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_:.{}-]{0,64}$' }))
}, { additionalProperties: false })
export type Token = Static<typeof TokenSchema>

/** RG_AUTH_TOKENS → tokens ([] when unset); every problem is pushed onto `problems`. */
export function parseTokens (raw: string | undefined, problems: string[]): Token[] {
  if (raw === undefined) return []
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch {
    problems.push('RG_AUTH_TOKENS: not valid JSON (a JSON array of tokens)')
    return []
  }
  const ArraySchema = Type.Array(TokenSchema, { minItems: 1 })
  if (!Value.Check(ArraySchema, parsed)) {
    // Never echo the value: it holds the tokens.
    const first = Value.Errors(ArraySchema, parsed).First()
    problems.push(`RG_AUTH_TOKENS: ${first?.path ?? ''} ${first?.message ?? 'invalid'}`.replace(/\s+/g, ' ').trim())
    return []
  }
  const names = new Set<string>()
  const secrets = new Set<string>()
  for (const t of parsed) {
    if (names.has(t.name)) problems.push(`RG_AUTH_TOKENS: duplicate token name ${t.name}`)
    if (secrets.has(t.token)) problems.push(`RG_AUTH_TOKENS: token ${t.name} reuses another token's secret`)
    names.add(t.name)
    secrets.add(t.token)
  }
  return parsed.map(t => t.keyPrefix === undefined ? t : { ...t, keyPrefix: normalizeKeyPrefix(t.keyPrefix) })
}
