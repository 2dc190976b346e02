/**
 * Friendlier configuration messages: RG_* variables nobody reads (a typo is otherwise silently ignored)
 * with the closest known name. (One line per bad enum, instead of Ajv's one per alternative, is config.ts's
 * enumValues: loadConfig uses it, and this module only ever imports config.ts, never the other way.)
 */
import { ConfigSchema, SECRET_VARS } from './config.js'

/**
 * Every variable the gateway reads: ConfigSchema's, the *_FILE forms of secrets and scripts/setup.sh's
 * switch.
 */
export function knownVariables (): string[] {
  return [...Object.keys(ConfigSchema.properties), ...SECRET_VARS.map(v => `${v}_FILE`), 'RG_SETUP_SKIP_PACKAGES']
}

/** Edit distance (insertions, deletions, substitutions), for "did you mean". */
function distance (a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      row.push(Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1)))
    }
    prev = row
  }
  return prev[b.length] ?? 0
}

export function closestKnown (name: string): string {
  const known = knownVariables()
  let best = known[0] ?? ''
  for (const k of known) if (distance(name, k) < distance(name, best)) best = k
  return best
}

/** One warning per RG_* variable the gateway does not read, naming the closest one it does. */
export function unknownVariableWarnings (env: Record<string, string | undefined>): string[] {
  const known = knownVariables()
  return Object.keys(env)
    .filter(name => name.startsWith('RG_') && !known.includes(name))
    .sort()
    .map(name => `${name} is not a result-gateway variable and is ignored; did you mean ${closestKnown(name)}?`)
}
