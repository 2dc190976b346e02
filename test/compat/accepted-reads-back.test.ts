/**
 * Property (#15.6): whatever the gateway accepts, real Celery reads back equal. Generated results, args and
 * kwargs (nested up to the 200-level limit, any Unicode, big and odd numbers) are stored through the gateway,
 * together with hostile bodies it must refuse; every accepted one is read with Celery's AsyncResult and must
 * equal what the client sent. Seeded and bounded, so it is one Python run per serializer.
 */
import { randomUUID } from 'node:crypto'
import t from 'tap'
import fc from 'fast-check'
import { buildTestApp } from '../helpers/app.js'
import { clientResult, requireCelery, type CeleryEnv } from '../helpers/celery.js'
import { startRedis } from '../helpers/redis-server.js'

interface Read { id: string, state: string, result?: unknown, args?: unknown, kwargs?: unknown }

const nest = (d: number, leaf: string): string => d === 0 ? leaf : d % 2 === 0 ? `[${nest(d - 1, leaf)}]` : `{"k":${nest(d - 1, leaf)}}`

/** JSON texts for `result`: generated values, compact or indented, plus the corners. */
const valueText = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.jsonValue({ maxDepth: 5 }), fc.constantFrom(undefined, 2)).map(([v, indent]) => JSON.stringify(v, null, indent)) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }).map(s => JSON.stringify(s)) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 200 }).map(d => nest(d, '"leaf"')) },
  { weight: 1, arbitrary: fc.constantFrom('12345678901234567890123', '-0', '1e308', '5e-324', '0.1', '"\\ud83d\\ude00 \\u00e9 \\/ \\" \\\\"', '"\\u0000\\u001f"', '{"__proto__":{"a":1},"constructor":2}', '{"a":1,"a":2}') }
)

/** Bodies the gateway must refuse: Celery could not read them back as sent. */
const hostile = [
  `{"state":"SUCCESS","result":${nest(201, '1')}}`,
  `{"state":"SUCCESS","result":1,"args":[${nest(200, '1')}]}`,
  Buffer.concat([Buffer.from('{"state":"SUCCESS","result":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]), // an encoded surrogate
  Buffer.concat([Buffer.from('{"state":"SUCCESS","result":"'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}')]) // an overlong "/"
]

for (const serializer of ['json', 'msgpack'] as const) {
  t.test(`${serializer}: every body the gateway accepts, Celery reads back equal`, async t => {
    await requireCelery()
    const server = await startRedis(t)
    const app = await buildTestApp(t, server.url, { RG_REDIS_KEY_PREFIX: '', RG_RESULT_SERIALIZER: serializer })
    const celery: CeleryEnv = { redisPort: server.port, serializer }
    const put = (id: string, payload: string | Buffer) => app.inject({ method: 'PUT', url: `/v1/results/${id}`, headers: { 'content-type': 'application/json' }, payload })

    for (const body of hostile) t.equal((await put(randomUUID(), body)).statusCode, 400, `refused: ${body.toString().slice(0, 60)}`)

    const samples = fc.sample(fc.tuple(valueText, fc.option(fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 3 })), fc.option(fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 3 }))), { numRuns: 120, seed: serializer === 'json' ? 15 : 16 })
    const sent = new Map<string, { result: unknown, args: unknown, kwargs: unknown }>()
    let refused = 0
    for (const [text, args, kwargs] of samples) {
      const id = randomUUID()
      const extra = `${args === null ? '' : `,"args":${JSON.stringify(args)}`}${kwargs === null ? '' : `,"kwargs":${JSON.stringify(kwargs)}`}`
      const res = await put(id, `{"state":"SUCCESS","result":${text}${extra}}`)
      if (res.statusCode !== 200) {
        refused++
        t.equal(res.statusCode, 400, `only refused as a bad request: ${text.slice(0, 60)}`)
        continue
      }
      // What the client meant, by the ordinary parser; Celery must read exactly that.
      sent.set(id, { result: JSON.parse(text), args: args ?? undefined, kwargs: kwargs ?? undefined })
    }
    t.ok(sent.size >= 100, `${sent.size} of ${samples.length} generated bodies accepted (${refused} refused)`)
    const read = await clientResult<Read[]>(celery, ['read', ...sent.keys()])
    let equal = 0
    for (const got of read) {
      const want = sent.get(got.id)
      const same = got.state === 'SUCCESS' && JSON.stringify(got.result) === JSON.stringify(want?.result) &&
        (want?.args === undefined || JSON.stringify(got.args) === JSON.stringify(want.args)) &&
        (want?.kwargs === undefined || JSON.stringify(got.kwargs) === JSON.stringify(want.kwargs))
      if (same) equal++
      else t.same(got, { id: got.id, state: 'SUCCESS', ...want }, `Celery reads ${got.id} as sent`)
    }
    t.equal(equal, sent.size, 'Celery read every accepted result back equal')
  })
}
