/**
 * Every coded error the gateway can answer with. Handlers throw these; plugins/problem.ts renders
 * them as application/problem+json (RFC 9457). The slug after `/problems/` is the problem `type`.
 */
import createError from '@fastify/error'

/**
 * Problem `type` slug and `title` for each code; the table in docs/errors.md is checked against this.
 * `expected: true` marks a 5xx that is a deliberate answer (how the operator configured the gateway), not a
 * fault: plugins/problem.ts logs it at info, never at error.
 */
export const PROBLEM_TYPES = {
  RG_INVALID_REQUEST: { slug: 'invalid-request', title: 'Invalid request', status: 400 },
  RG_UNAUTHENTICATED: { slug: 'unauthenticated', title: 'Authentication required', status: 401 },
  RG_INVALID_TICKET: { slug: 'invalid-ticket', title: 'Invalid ticket', status: 401 },
  RG_FORBIDDEN: { slug: 'forbidden', title: 'Forbidden', status: 403 },
  RG_TICKET_NOT_ALLOWED: { slug: 'ticket-not-allowed', title: 'Ticket not valid for this request', status: 403 },
  RG_RESULT_NOT_FOUND: { slug: 'result-not-found', title: 'Result not found', status: 404 },
  RG_GROUP_NOT_FOUND: { slug: 'group-not-found', title: 'Group not found', status: 404 },
  RG_ROUTE_NOT_FOUND: { slug: 'route-not-found', title: 'Route not found', status: 404 },
  RG_METHOD_NOT_ALLOWED: { slug: 'method-not-allowed', title: 'Method not allowed', status: 405 },
  RG_REQUEST_TIMEOUT: { slug: 'request-timeout', title: 'Request timeout', status: 408 },
  RG_RESULT_FINAL: { slug: 'result-final', title: 'Result already final', status: 409 },
  RG_PAYLOAD_TOO_LARGE: { slug: 'payload-too-large', title: 'Payload too large', status: 413 },
  RG_UNSUPPORTED_MEDIA_TYPE: { slug: 'unsupported-media-type', title: 'Unsupported media type', status: 415 },
  RG_RATE_LIMITED: { slug: 'rate-limited', title: 'Too many requests', status: 429 },
  RG_HEADERS_TOO_LARGE: { slug: 'headers-too-large', title: 'Request headers too large', status: 431 },
  RG_UNSUPPORTED_SERIALIZER: { slug: 'unsupported-serializer', title: 'Unsupported serializer', status: 422 },
  RG_UNDECODABLE_RESULT: { slug: 'undecodable-result', title: 'Stored result cannot be decoded', status: 422 },
  RG_WEBHOOK_NOT_FOUND: { slug: 'webhook-not-found', title: 'Webhook not found', status: 404 },
  RG_WEBHOOK_URL_REFUSED: { slug: 'webhook-url-refused', title: 'Webhook URL refused', status: 422 },
  RG_WEBHOOKS_DISABLED: { slug: 'webhooks-disabled', title: 'Webhooks are disabled', status: 501, expected: true },
  RG_REDIS_UNAVAILABLE: { slug: 'redis-unavailable', title: 'Redis unavailable', status: 503 },
  RG_NOT_REPLICATED: { slug: 'not-replicated', title: 'Write not replicated in time', status: 503 },
  RG_SHUTTING_DOWN: { slug: 'shutting-down', title: 'Shutting down', status: 503 },
  RG_OVERLOADED: { slug: 'overloaded', title: 'Overloaded', status: 503 },
  RG_TOO_MANY_WAITERS: { slug: 'too-many-waiters', title: 'Too many waiters', status: 503 },
  RG_REDIS_OUT_OF_MEMORY: { slug: 'redis-out-of-memory', title: 'Redis is out of memory', status: 503 },
  RG_REDIS_CANNOT_PERSIST: { slug: 'redis-cannot-persist', title: 'Redis cannot persist writes', status: 503 },
  RG_REDIS_DENIED: { slug: 'redis-denied', title: 'Redis ACL denied the command', status: 503 },
  RG_INTERNAL: { slug: 'internal', title: 'Internal error', status: 500 }
} as const

export type ProblemCode = keyof typeof PROBLEM_TYPES

const RESULT_NOT_FOUND = 'No result is stored for task %s (Celery would report it as PENDING)'
export const ResultNotFound = createError<[string]>('RG_RESULT_NOT_FOUND', RESULT_NOT_FOUND, 404)
/** ResultNotFound's detail, for the fetch routes' 404, answered without an Error (plugins/problem.ts's sendProblem). */
export const resultNotFoundDetail = (taskId: string): string => RESULT_NOT_FOUND.replace('%s', taskId)
export const GroupNotFound = createError<[string]>(
  'RG_GROUP_NOT_FOUND', 'No saved group and no chord counters for group %s (GroupResult.save() stores a group)', 404)
export const RouteNotFound = createError<[string, string]>(
  'RG_ROUTE_NOT_FOUND', 'No route for %s %s', 404)
export const MethodNotAllowed = createError<[string, string, string]>(
  'RG_METHOD_NOT_ALLOWED', '%s is not allowed on %s; allowed: %s', 405)
export const ResultFinal = createError<[string]>(
  'RG_RESULT_FINAL', 'Task %s already has a SUCCESS result; Celery never overwrites it, so neither does the gateway', 409)
export const UnsupportedSerializer = createError<[string, string]>(
  'RG_UNSUPPORTED_SERIALIZER', 'The result of task %s is stored with the %s serializer, which the gateway never deserializes; use result_serializer json or msgpack', 422)
export const PickleRefused = createError<[string]>(
  'RG_UNSUPPORTED_MEDIA_TYPE', 'Request body of type %s is a pickle; the gateway never unpickles. Send application/json', 415)
export const UndecodableResult = createError<[string, string]>(
  'RG_UNDECODABLE_RESULT', 'The stored result of task %s cannot be decoded: %s', 422)
export const RedisUnavailable = createError<[string]>(
  'RG_REDIS_UNAVAILABLE', 'Redis is unavailable (%s); retry shortly', 503)
export const NotReplicated = createError<[string, number, number, number]>(
  'RG_NOT_REPLICATED', 'The result of task %s was written to the master, but only %d of %d replicas acknowledged it within %d ms; ' +
  'it may be lost in a failover. Retry the store (the same SUCCESS already stored answers 200 with applied false, alreadyStored true)', 503)
export const ShuttingDown = createError(
  'RG_SHUTTING_DOWN', 'The gateway is shutting down; retry on another instance', 503)
export const InvalidRequest = createError<[string]>('RG_INVALID_REQUEST', '%s', 400)
export const Overloaded = createError<[string]>(
  'RG_OVERLOADED', 'The gateway is overloaded (%s over its limit); retry shortly or on another instance', 503)
export const TooManyWaiters = createError<[number]>(
  'RG_TOO_MANY_WAITERS', 'This gateway already holds its maximum of %d waiters; retry shortly or on another instance', 503)
export const Unauthenticated = createError<[string]>(
  'RG_UNAUTHENTICATED', '%s: send Authorization: Bearer <token>', 401)
export const Forbidden = createError<[string, string]>(
  'RG_FORBIDDEN', 'Token %s lacks the %s scope for this request', 403)
export const InvalidTicket = createError<[string]>(
  'RG_INVALID_TICKET', '%s: ask for a new one with POST /v1/tickets', 401)
export const TicketNotAllowed = createError<[string]>(
  'RG_TICKET_NOT_ALLOWED', '%s; a ticket only reads (fetch, raw, wait, events, group fetch and wait) the ids it was issued for', 403)
export const RateLimited = createError<[string, string]>(
  'RG_RATE_LIMITED', 'Rate limit of %s exceeded; retry in %s', 429)
export const RedisDenied = createError<[string]>(
  'RG_REDIS_DENIED', 'Redis\'s ACL refused the gateway\'s command: %s (the rule is in docs/security.md; `result-gateway doctor` lists what is missing); retry once it is granted', 503)
export const RedisOutOfMemory = createError<[string, string]>(
  'RG_REDIS_OUT_OF_MEMORY', 'Redis is at maxmemory%s with maxmemory-policy %s and refuses writes; reads still work. Retry later: nothing was stored', 503)
export const RedisCannotPersist = createError(
  'RG_REDIS_CANNOT_PERSIST', 'Redis refuses writes because it cannot persist them (its last snapshot failed: stop-writes-on-bgsave-error); reads still work. Retry later: nothing was stored', 503)
export const TooFewReplicas = createError<[number, number]>(
  'RG_NOT_REPLICATED', 'The Redis master has %d connected replica(s), fewer than the %d this store asks for: nothing was written. ' +
  'Retry once replicas are back, or ask for fewer (?replicas=)', 503)
export const WebhookNotFound = createError<[string]>(
  'RG_WEBHOOK_NOT_FOUND', 'No webhook is registered %s', 404)
export const WebhookUrlRefused = createError<[string]>(
  'RG_WEBHOOK_URL_REFUSED', 'Webhook URL refused: %s', 422)
export const WebhooksDisabled = createError(
  'RG_WEBHOOKS_DISABLED', 'Webhooks are off on this gateway: the operator sets RG_WEBHOOK_SECRET (whsec_…) to turn them on', 501)
