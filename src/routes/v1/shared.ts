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

/** Maps codec errors to problems: pickle/yaml are named, garbage is "undecodable". */
export async function decoded<T> (taskId: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err
    const id = err.taskId ?? taskId
    if (err.format === 'pickle' || err.format === 'yaml') throw new UnsupportedSerializer(id, err.format)
    throw new UndecodableResult(id, err.message)
  }
}
