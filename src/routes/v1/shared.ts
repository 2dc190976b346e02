/** Helpers shared by the /v1 route files: client-disconnect signal, codec errors → problems. */
import type { FastifyReply } from 'fastify'
import { DecodeError } from '../../celery/codec.js'
import { UndecodableResult, UnsupportedSerializer } from '../../errors.js'

/** Aborted when the client goes away before its answer was sent (long-polls release at once). */
export function clientGone (reply: FastifyReply): AbortSignal {
  const gone = new AbortController()
  reply.raw.on('close', () => { if (!reply.raw.writableEnded) gone.abort() })
  return gone.signal
}

/**
 * Resolves when the answer has been handed to the socket ('finish'), or the connection closed without it:
 * where the wake latency ends (a wait is "answered" when the client can read it, not when it was decided).
 */
export function answerWritten (reply: FastifyReply): Promise<void> {
  return new Promise(resolve => {
    reply.raw.once('finish', () => resolve())
    reply.raw.once('close', () => resolve())
  })
}

/** A codec error as its problem: pickle/yaml are named, garbage is "undecodable"; anything else unchanged. */
function asProblem (err: unknown, taskId: string): unknown {
  if (!(err instanceof DecodeError)) return err
  const id = err.taskId ?? taskId
  if (err.format === 'pickle' || err.format === 'yaml') return new UnsupportedSerializer(id, err.format)
  return new UndecodableResult(id, err.message)
}

/** Maps codec errors to problems (a plain promise chain: this is on every read's hot path). */
export function decoded<T> (taskId: string, work: () => Promise<T>): Promise<T> {
  let pending: Promise<T>
  try {
    pending = work()
  } catch (err) {
    return Promise.reject(asProblem(err, taskId))
  }
  return pending.then(undefined, (err: unknown) => { throw asProblem(err, taskId) })
}

/** decoded, for synchronous work (the views): no promise at all. */
export function decodedSync<T> (taskId: string, work: () => T): T {
  try {
    return work()
  } catch (err) {
    throw asProblem(err, taskId)
  }
}
