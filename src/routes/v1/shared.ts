/**
 * Helpers shared by the /v1 route files: admitting waits (waiter limit, timeout clamp), client-disconnect
 * signal, codec errors → problems, and the webhook routes' guard and wanted states.
 */
import type { FastifyInstance, FastifyReply } from 'fastify'
import { DecodeError } from '../../celery/codec.js'
import type { Waiter } from '../../celery/waiter.js'
import type { Config } from '../../config.js'
import { TooManyWaiters, UndecodableResult, UnsupportedSerializer, WebhooksDisabled } from '../../errors.js'
import { DEFAULT_STATES } from '../../webhooks/service.js'

/**
 * Admits `count` more waiters (a long-poll, a stream, a batch or group wait) or throws TooManyWaiters past
 * RG_WAIT_MAX_WAITERS; returns the wait's timeout in ms: what the client asked (or RG_WAIT_DEFAULT_SECONDS),
 * capped at RG_WAIT_MAX_SECONDS.
 */
export function admitWait (waiter: Waiter, limits: Config['wait'], count: number, requestedSeconds: number | undefined): number {
  if (waiter.stats.waiters + count > limits.maxWaiters) throw new TooManyWaiters(limits.maxWaiters)
  return Math.min(requestedSeconds ?? limits.defaultSeconds, limits.maxSeconds) * 1000
}

/** The end of every webhook route's description (openapi.yaml): what `requireWebhooks` answers. */
export const WEBHOOKS_OFF_NOTE = ' Answers 501 webhooks-disabled while RG_WEBHOOK_SECRET is unset.'

/**
 * Every route of the calling (encapsulated) route plugin answers 501 webhooks-disabled while RG_WEBHOOK_SECRET
 * is unset: a preHandler, so after authentication and validation, where the handlers' own first line used to be.
 */
export function requireWebhooks (app: FastifyInstance): void {
  app.addHook('preHandler', (_req, _reply, done) => {
    done(app.webhooks.enabled ? undefined : new WebhooksDisabled())
  })
}

/**
 * The states a registration asks for: the ready states when none are given, each state once (the schema does
 * not say uniqueItems: Ajv checks that pairwise, quadratic in the list's length).
 */
export function wantedStates (states: readonly string[] | undefined): string[] {
  return [...new Set(states ?? DEFAULT_STATES)]
}

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
