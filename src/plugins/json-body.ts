/**
 * The JSON body parser for every route: one validating pass (src/celery/json-text.ts) proves the body valid
 * UTF-8, no deeper than Celery can read and, for stores, finds `result`, which is then kept as the bytes the
 * client sent (a RawJson, never parsed into objects) and the rest parsed by JSON.parse (the scan has already
 * ruled out what Fastify's own parser looks for). Every other body goes through Fastify's own JSON parser.
 */
import fp from 'fastify-plugin'
import { MAX_VALUE_DEPTH, RawJson, scanBody, utf8ErrorOffset } from '../celery/json-text.js'
import { InvalidRequest } from '../errors.js'

/** Containers open at once in a body: its own object, then MAX_VALUE_DEPTH levels inside its members. */
const MAX_BODY_DEPTH = MAX_VALUE_DEPTH + 1

export default fp(async (app) => {
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    const buf = body as Buffer
    const scan = scanBody(buf, MAX_BODY_DEPTH)
    if (!scan.ok && scan.reason === 'utf8') {
      // Decoding would turn the bytes into U+FFFD and store something the client never sent.
      done(new InvalidRequest(`body: invalid UTF-8 at byte ${utf8ErrorOffset(buf)}`), undefined)
      return
    }
    if (!scan.ok && scan.reason === 'depth') {
      done(new InvalidRequest(`body: a value nests deeper than ${MAX_VALUE_DEPTH} levels of arrays and objects, more than Celery's readers are given`), undefined)
      return
    }
    // Invalid JSON, non-objects and strings the scanner leaves to the ordinary parser: Fastify's parser
    // decides, with its own errors.
    const span = scan.ok && !scan.suspect ? scan.members.get('result') : undefined
    if (span === undefined) {
      parseJson(req, buf.toString(), done)
      return
    }
    const raw = new RawJson(buf.subarray(span[0], span[1]))
    // The scan proved the body valid JSON with no string the ordinary parser would judge as prototype poisoning
    // (not `suspect`), so the rest (the body with `result` as null, still valid) needs only JSON.parse, not
    // secure-json-parse's second look for those keys.
    const rest = `${buf.toString('utf8', 0, span[0])}null${buf.toString('utf8', span[1])}`
    let parsed: unknown
    try {
      parsed = JSON.parse(rest)
    } catch {
      // Not expected (a valid value replaced by null stays valid); if it happens, Fastify's parser answers.
      parseJson(req, rest, done)
      return
    }
    if (typeof parsed === 'object' && parsed !== null && (parsed as { result?: unknown }).result === null) {
      (parsed as { result: unknown }).result = raw
    }
    done(null, parsed)
  })
}, { name: 'json-body' })
