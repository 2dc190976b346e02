/**
 * Command-line flags of the server entry: --help and --version only; everything else is an RG_* variable
 * (twelve-factor, as in a container). Pure: returns what to print and the exit code, server.ts does the I/O.
 */
import { VERSION } from './version.js'

export const SERVER_HELP = `result-gateway ${VERSION}: HTTP front door to Celery task results kept in Redis

usage: node dist/server.js [--help | --version]

Configuration is read from RG_* environment variables only (docs/configuration.md), e.g.
  RG_REDIS_URL=redis://redis:6379/0 RG_AUTH_TOKENS='[...]' node dist/server.js
With no Redis configured a throwaway local redis-server is started (development).
Operator commands: result-gateway --help (doctor, stats, sweep).
`

export type FlagAction = { exit: number, out?: string, err?: string } | null

/** null: start the server. Otherwise what to print and the exit code. */
export function serverFlags (argv: readonly string[]): FlagAction {
  const [first] = argv
  if (first === undefined) return null
  if (argv.length === 1 && (first === '--help' || first === '-h')) return { exit: 0, out: SERVER_HELP }
  if (argv.length === 1 && (first === '--version' || first === '-v')) return { exit: 0, out: `${VERSION}\n` }
  return { exit: 2, err: `result-gateway: unknown argument ${JSON.stringify(first)}; the server takes only --help and --version (configuration is RG_* variables)\n` }
}
