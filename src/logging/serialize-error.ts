/**
 * The one serializer for errors that reach a log line (app.ts gives it to pino as `err`): the Redis command
 * name is kept and its arguments dropped — ioredis attaches `command: {name, args}` to its errors, and the
 * args are passwords (AUTH) or stored documents.
 */

export interface SerializedError {
  type: string
  message: string
  /** The Redis command's name (never its arguments). */
  command?: string
  code?: string
  stack?: string
}

function commandName (err: Error): string | undefined {
  const name = (err as { command?: { name?: unknown } }).command?.name
  return typeof name === 'string' && /^[\w|:-]{1,64}$/.test(name) ? name : undefined
}

/**
 * The one serializer for errors that reach a log line: type, first line of the message, the Redis command
 * name and (only when `withStack`) the stack. Everything else an error carries — ioredis `command.args`,
 * `previousErrors`, a request, headers — is dropped, whatever it holds.
 */
export function serializeError (err: unknown, withStack = true): SerializedError {
  if (!(err instanceof Error)) return { type: typeof err, message: 'non-error thrown' }
  const out: SerializedError = { type: err.name, message: (err.message.split('\n')[0] ?? '').slice(0, 500) }
  const command = commandName(err)
  if (command !== undefined) out.command = command
  const code = (err as { code?: unknown }).code
  if (typeof code === 'string' && code.length <= 64) out.code = code
  if (withStack && err.stack !== undefined) out.stack = err.stack.split('\n').filter(l => /^\s+at /.test(l)).slice(0, 12).join('\n')
  return out
}
