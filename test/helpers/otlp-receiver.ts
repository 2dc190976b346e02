/**
 * A small OTLP/HTTP trace receiver on a free loopback port, for the tracing tests: answers POST /v1/traces
 * with 200 and keeps every span it got, decoded from http/json or http/protobuf (a minimal protobuf wire reader
 * for the few fields the tests read: resource attributes, span ids, parent, name, kind, attributes, status code).
 * @see https://github.com/open-telemetry/opentelemetry-proto/blob/main/opentelemetry/proto/trace/v1/trace.proto
 */
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'

export type AttrValue = string | number | boolean | null
export interface ReceivedSpan {
  service: AttrValue
  resource: Record<string, AttrValue>
  traceId: string
  spanId: string
  parentSpanId: string
  name: string
  kind: number
  attributes: Record<string, AttrValue>
  /** Status.code: 0 unset, 1 ok, 2 error */
  status: number
}
export interface Export { path: string, contentType: string, spans: ReceivedSpan[] }

// ---- protobuf wire format: varints, length-delimited fields, fixed 32/64 ----

type Field = { no: number, wire: number, value: bigint | Buffer }

function * fields (buf: Buffer): Generator<Field> {
  let i = 0
  const varint = (): bigint => {
    let shift = 0n
    let out = 0n
    for (;;) {
      const b = buf[i++]
      if (b === undefined) throw new Error('truncated varint')
      out |= BigInt(b & 0x7f) << shift
      if ((b & 0x80) === 0) return out
      shift += 7n
    }
  }
  while (i < buf.length) {
    const tag = Number(varint())
    const no = tag >>> 3
    const wire = tag & 7
    if (wire === 0) yield { no, wire, value: varint() }
    else if (wire === 1) { yield { no, wire, value: buf.subarray(i, i + 8) }; i += 8 } else if (wire === 5) { yield { no, wire, value: buf.subarray(i, i + 4) }; i += 4 } else if (wire === 2) {
      const len = Number(varint())
      yield { no, wire, value: buf.subarray(i, i + len) }
      i += len
    } else throw new Error(`unsupported wire type ${wire}`)
  }
}

const bytes = (f: Field): Buffer => f.value instanceof Buffer ? f.value : Buffer.alloc(0)

function anyValue (buf: Buffer): AttrValue {
  for (const f of fields(buf)) {
    if (f.no === 1) return bytes(f).toString('utf8')
    if (f.no === 2) return f.value === 1n
    if (f.no === 3) return Number(BigInt.asIntN(64, f.value as bigint))
    if (f.no === 4) return bytes(f).readDoubleLE(0)
  }
  return null
}

function keyValues (bufs: Buffer[]): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {}
  for (const kv of bufs) {
    let key = ''
    let value: AttrValue = null
    for (const f of fields(kv)) {
      if (f.no === 1) key = bytes(f).toString('utf8')
      if (f.no === 2) value = anyValue(bytes(f))
    }
    out[key] = value
  }
  return out
}

function protoSpan (buf: Buffer, resource: Record<string, AttrValue>): ReceivedSpan {
  const span: ReceivedSpan = { service: resource['service.name'] ?? null, resource, traceId: '', spanId: '', parentSpanId: '', name: '', kind: 0, attributes: {}, status: 0 }
  const attrs: Buffer[] = []
  for (const f of fields(buf)) {
    if (f.no === 1) span.traceId = bytes(f).toString('hex')
    else if (f.no === 2) span.spanId = bytes(f).toString('hex')
    else if (f.no === 4) span.parentSpanId = bytes(f).toString('hex')
    else if (f.no === 5) span.name = bytes(f).toString('utf8')
    else if (f.no === 6) span.kind = Number(f.value)
    else if (f.no === 9) attrs.push(bytes(f))
    else if (f.no === 15) for (const g of fields(bytes(f))) if (g.no === 3) span.status = Number(g.value)
  }
  span.attributes = keyValues(attrs)
  return span
}

function fromProtobuf (body: Buffer): ReceivedSpan[] {
  const spans: ReceivedSpan[] = []
  for (const rs of fields(body)) {
    if (rs.no !== 1) continue
    let resource: Record<string, AttrValue> = {}
    const scopeSpans: Buffer[] = []
    for (const f of fields(bytes(rs))) {
      if (f.no === 1) resource = keyValues([...fields(bytes(f))].filter(a => a.no === 1).map(bytes))
      if (f.no === 2) scopeSpans.push(bytes(f))
    }
    for (const ss of scopeSpans) for (const f of fields(ss)) if (f.no === 2) spans.push(protoSpan(bytes(f), resource))
  }
  return spans
}

// ---- http/json: the same messages, ids as hex strings, 64-bit integers as strings ----

interface JsonKv { key: string, value: { stringValue?: string, boolValue?: boolean, intValue?: string | number, doubleValue?: number } }
interface JsonSpan { traceId: string, spanId: string, parentSpanId?: string, name: string, kind: number, attributes?: JsonKv[], status?: { code?: number } }
interface JsonBody { resourceSpans?: Array<{ resource?: { attributes?: JsonKv[] }, scopeSpans?: Array<{ spans?: JsonSpan[] }> }> }

function jsonAttrs (kvs: JsonKv[] = []): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {}
  for (const { key, value } of kvs) {
    out[key] = value.stringValue ?? value.boolValue ?? (value.intValue !== undefined ? Number(value.intValue) : value.doubleValue ?? null)
  }
  return out
}

function fromJson (body: Buffer): ReceivedSpan[] {
  const doc = JSON.parse(body.toString('utf8')) as JsonBody
  return (doc.resourceSpans ?? []).flatMap(rs => {
    const resource = jsonAttrs(rs.resource?.attributes)
    return (rs.scopeSpans ?? []).flatMap(ss => (ss.spans ?? []).map(s => ({
      service: resource['service.name'] ?? null,
      resource,
      traceId: s.traceId,
      spanId: s.spanId,
      parentSpanId: s.parentSpanId ?? '',
      name: s.name,
      kind: s.kind,
      attributes: jsonAttrs(s.attributes),
      status: s.status?.code ?? 0
    })))
  })
}

async function readBody (req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of req) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
}

/** Starts the receiver; `t.teardown` closes it. `requests` counts every request, whatever its path. */
export async function startOtlpReceiver (t: { teardown: (fn: () => unknown) => void }) {
  const exports: Export[] = []
  let requests = 0
  const server = createServer((req, res) => {
    requests++
    readBody(req).then(body => {
      const contentType = req.headers['content-type'] ?? ''
      const spans = contentType.startsWith('application/json') ? fromJson(body) : fromProtobuf(body)
      exports.push({ path: req.url ?? '', contentType, spans })
      res.writeHead(200, { 'content-type': contentType.startsWith('application/json') ? 'application/json' : 'application/x-protobuf' })
      res.end(contentType.startsWith('application/json') ? '{}' : '')
    }).catch((err: unknown) => { res.writeHead(400).end(String(err)) })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise(resolve => { server.closeAllConnections(); server.close(resolve) }))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    exports,
    spans: (): ReceivedSpan[] => exports.flatMap(e => e.spans),
    requests: (): number => requests
  }
}
