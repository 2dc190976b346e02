/**
 * One error model: every non-2xx answer, including the ones Fastify and Node's HTTP parser produce before a
 * route runs, is application/problem+json with a code from src/errors.ts. Raw sockets send what fetch refuses to.
 */
import { connect } from 'node:net'
import t, { type Test } from 'tap'
import { PROBLEM_TYPES } from '../../src/errors.js'
import { buildTestApp } from '../helpers/app.js'
import { startRedis } from '../helpers/redis-server.js'

interface Answer { status: number, headers: Record<string, string>, body: string }

/** Sends exact bytes and reads the answer until the server closes or the body is complete. */
function rawRequest (port: number, bytes: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes))
    let data = ''
    socket.setEncoding('latin1')
    socket.on('data', (c: string) => { data += c })
    socket.on('error', reject)
    socket.on('close', () => {
      const [head = '', body = ''] = data.split('\r\n\r\n')
      const [statusLine = '', ...lines] = head.split('\r\n')
      const headers: Record<string, string> = {}
      for (const l of lines) {
        const i = l.indexOf(':')
        headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim()
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body })
    })
  })
}

const KNOWN = new Set(Object.keys(PROBLEM_TYPES))

t.test('every error is problem+json with a documented code', async t => {
  const server = await startRedis(t)
  const app = await buildTestApp(t, server.url, { RG_HTTP_BODY_LIMIT_BYTES: '1024' })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const port = Number(new URL(base).port)

  const isProblem = (t: Test, a: Answer, status: number, code: string): Record<string, unknown> => {
    t.equal(a.status, status, 'status')
    t.match(a.headers['content-type'], /^application\/problem\+json/, 'content type')
    let body: Record<string, unknown> = {}
    try { body = JSON.parse(a.body) as Record<string, unknown> } catch { t.fail(`not JSON: ${a.body}`) }
    t.equal(body.code, code, `code (body: ${a.body})`)
    t.ok(KNOWN.has(String(body.code)), 'code is declared in src/errors.ts')
    t.equal(body.status, status, 'body status')
    t.match(body.type, /^\/problems\/[a-z-]+$/, 'type is a documented slug')
    return body
  }
  const fetchAnswer = async (path: string, init: RequestInit = {}): Promise<Answer> => {
    const res = await fetch(`${base}${path}`, init)
    return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() }
  }
  const put = (body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    fetchAnswer('/v1/results/em-1', { method: 'PUT', headers, body })

  t.test('a bad URL escape', async t => {
    isProblem(t, await rawRequest(port, 'GET /v1/results/% HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), 400, 'RG_INVALID_REQUEST')
  })
  t.test('a path parameter over the router limit', async t => {
    const body = isProblem(t, await fetchAnswer(`/v1/results/${'a'.repeat(400)}`), 400, 'RG_INVALID_REQUEST')
    t.match(body.detail, /longer than/)
  })
  t.test('malformed JSON', async t => {
    isProblem(t, await put('{"state": "SUCCESS", '), 400, 'RG_INVALID_REQUEST')
    isProblem(t, await put('{"state": "SUCCESS", "result": tru}'), 400, 'RG_INVALID_REQUEST')
  })
  t.test('an empty JSON body', async t => {
    isProblem(t, await put(''), 400, 'RG_INVALID_REQUEST')
  })
  t.test('a body over the limit', async t => {
    isProblem(t, await put(JSON.stringify({ state: 'SUCCESS', result: 'x'.repeat(2000) })), 413, 'RG_PAYLOAD_TOO_LARGE')
  })
  t.test('a body of the wrong media type', async t => {
    isProblem(t, await put('state=SUCCESS', { 'content-type': 'application/x-www-form-urlencoded' }), 415, 'RG_UNSUPPORTED_MEDIA_TYPE')
  })
  t.test('a malformed header line (the HTTP parser\'s clientError)', async t => {
    isProblem(t, await rawRequest(port, 'GET /v1/results/x HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n'), 400, 'RG_INVALID_REQUEST')
  })
  t.test('headers over the size limit', async t => {
    isProblem(t, await rawRequest(port, `GET /v1/results/x HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`), 431, 'RG_HEADERS_TOO_LARGE')
  })
  t.test('a known path with the wrong method answers 405 with Allow', async t => {
    const a = await fetchAnswer('/v1/results/em-1', { method: 'POST' })
    isProblem(t, a, 405, 'RG_METHOD_NOT_ALLOWED')
    t.equal(a.headers.allow, 'DELETE, GET, HEAD, PUT')
    const b = await fetchAnswer('/v1/results:batchGet')
    isProblem(t, b, 405, 'RG_METHOD_NOT_ALLOWED')
    t.equal(b.headers.allow, 'POST')
  })
  t.test('an unknown path is still 404', async t => {
    isProblem(t, await fetchAnswer('/v1/nothing-here'), 404, 'RG_ROUTE_NOT_FOUND')
  })
  t.test('validation errors name the field and the rule', async t => {
    const unknown = isProblem(t, await put('{"state": "SUCCESS", "result": 1, "colour": "red"}'), 400, 'RG_INVALID_REQUEST')
    t.match(unknown.detail, /colour/, 'the unknown field is named')
    t.match(unknown.errors, [{ path: 'body/colour', message: /additionalProperties/ }])
    const missing = isProblem(t, await put('{"result": 1}'), 400, 'RG_INVALID_REQUEST')
    t.match(missing.errors, [{ path: 'body/state', message: /required/ }])
  })
})
