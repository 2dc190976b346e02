import t from 'tap'
import { isUtf8 } from 'node:buffer'
import fc from 'fast-check'
import { decodeMeta, encodeMeta } from '../../src/celery/codec.js'
import { isJsonText, jsonMembers, RawJson } from '../../src/celery/json-text.js'
import { toMeta } from '../../src/celery/meta.js'

const parses = (b: Buffer): boolean => {
  try {
    JSON.parse(b.toString('utf8'))
    return true
  } catch {
    return false
  }
}
const check = (b: Buffer): boolean => isJsonText(b, 0, b.length)
const poisoned = /__proto__|constructor|\\u00[5-7]/i

t.test('accepts every JSON value JSON.stringify writes, compact and indented', async t => {
  let n = 0
  fc.assert(fc.property(fc.jsonValue(), fc.constantFrom(undefined, 1, '\t'), (v, indent) => {
    const b = Buffer.from(JSON.stringify(v, null, indent))
    n++
    return check(b) === !poisoned.test(b.toString())
  }), { numRuns: 3000, seed: 2026 })
  t.equal(n, 3000)
})

t.test('never accepts what JSON.parse refuses: generated mutations of valid documents', async t => {
  const alphabet = Buffer.from('{}[]",:\\ \t\n0123456789.-+eEtrufalsn\u0001x')
  let refused = 0
  fc.assert(fc.property(fc.jsonValue(), fc.array(fc.tuple(fc.nat(), fc.nat(alphabet.length - 1), fc.constantFrom('insert', 'replace', 'delete')), { minLength: 1, maxLength: 4 }), (v, edits) => {
    let b = Buffer.from(JSON.stringify(v))
    for (const [at, c, op] of edits) {
      const i = b.length === 0 ? 0 : at % b.length
      const ch = Buffer.from([alphabet[c] ?? 32])
      if (op === 'insert') b = Buffer.concat([b.subarray(0, i), ch, b.subarray(i)])
      else if (op === 'replace') b = Buffer.concat([b.subarray(0, i), ch, b.subarray(i + 1)])
      else b = Buffer.concat([b.subarray(0, i), b.subarray(i + 1)])
    }
    if (!parses(b)) refused++
    return !check(b) || parses(b)
  }), { numRuns: 5000, seed: 2026 })
  t.ok(refused > 1000, `${refused} of 5000 mutations were invalid JSON, none accepted`)
})

t.test('the grammar corners', async t => {
  const good = ['0', '-0', '1.5e-3', '1E+2', '"\\u00e9\\n\\/"', '[]', '{}', ' [ 1 , { "a" : [ ] } ] ', 'true', 'null', '"ünï ✓"', '12345678901234567890123']
  const bad = ['', '01', '1.', '.5', '+1', '1e', '-', 'NaN', 'Infinity', '-Infinity', '[1,]', '{"a":1,}', '{"a"}', '{a:1}', "'x'", '"\\x"', '"\\u12g4"', '"tab\there"', '[1 2]', '{"a":1 "b":2}', '[', ']', '1 2', 'tru', 'nulll', '"open', '[1]]', '{"a":[1}']
  for (const s of good) t.ok(check(Buffer.from(s)), `accepts ${s}`)
  for (const s of bad) t.notOk(check(Buffer.from(s)), `refuses ${JSON.stringify(s)}`)
  t.notOk(check(Buffer.from([0x22, 0xc3, 0x28, 0x22])), 'refuses invalid UTF-8')
  t.notOk(check(Buffer.from('{"__proto__": 1}')), 'leaves __proto__ to the ordinary parser')
  t.notOk(check(Buffer.from('{"\\u005f_proto__": 1}')), 'and its escaped spellings')
  t.ok(check(Buffer.from(`${'['.repeat(100000)}${']'.repeat(100000)}`)), 'deep nesting costs no stack')
  const b = Buffer.from('{"result": [1, 2]}')
  t.ok(isJsonText(b, 11, 17), 'a span of a larger buffer')
  t.notOk(isJsonText(b, 11, 13), 'a span cut short is refused even when the buffer goes on')
})

t.test('the members of an object, found in the same validating pass', async t => {
  const b = Buffer.from(' { "state" : "SUCCESS", "result": {"a": [1, {"b": "}"}]}, "k\\u00e9y": [], "e": {} , "result": 2 } ')
  const m = jsonMembers(b)
  t.same([...(m ?? new Map<string, [number, number]>()).entries()].map(([k, [s, e]]) => [k, b.toString('utf8', s, e)]),
    [['state', '"SUCCESS"'], ['result', '2'], ['kéy', '[]'], ['e', '{}']], 'every member, the last of a repeated key, escaped keys decoded')
  for (const bad of ['[1]', '"x"', '{"a": 1,}', '{"a": NaN}', '{"a": 1} x', '{"__proto__": 1}']) t.equal(jsonMembers(Buffer.from(bad)), null, bad)
  fc.assert(fc.property(fc.dictionary(fc.string(), fc.jsonValue()), obj => {
    const text = JSON.stringify(obj)
    if (poisoned.test(text)) return true
    const found = jsonMembers(Buffer.from(text))
    return found !== null && found.size === Object.keys(obj).length && Object.entries(obj).every(([k, v]) => {
      const span = found.get(k)
      return span !== undefined && JSON.stringify(JSON.parse(Buffer.from(text).toString('utf8', span[0], span[1]))) === JSON.stringify(v)
    })
  }), { numRuns: 1000, seed: 11 })
})

t.test('a stored document with a raw result is byte-for-byte the JSON.stringify one, in both serializers', async t => {
  const now = new Date('2026-11-25T06:00:00Z')
  fc.assert(fc.property(fc.jsonValue(), v => {
    const text = JSON.stringify(v)
    const viaRaw = encodeMeta(toMeta('t-1', { state: 'SUCCESS', result: new RawJson(Buffer.from(text)) }, now), 'json')
    const viaValue = encodeMeta(toMeta('t-1', { state: 'SUCCESS', result: JSON.parse(text) }, now), 'json')
    const packedRaw = encodeMeta(toMeta('t-1', { state: 'SUCCESS', result: new RawJson(Buffer.from(text)) }, now), 'msgpack')
    const packedValue = encodeMeta(toMeta('t-1', { state: 'SUCCESS', result: JSON.parse(text) }, now), 'msgpack')
    return viaRaw.equals(viaValue) && packedRaw.equals(packedValue)
  }), { numRuns: 1000, seed: 7 })
  const spaced = encodeMeta(toMeta('t-2', { state: 'SUCCESS', result: new RawJson(Buffer.from('{ "a" : [1, 2] }')) }, now), 'json')
  t.same(decodeMeta(spaced).meta.result, { a: [1, 2] }, 'whitespace the client sent is kept and harmless')
  t.match(spaced.toString(), /^\{"status":"SUCCESS","result":\{ "a" : \[1, 2\] \},"traceback":null/)
})

t.test('depth is checked in the same pass, suspect strings deep down included; UTF-8 errors are located', async t => {
  const { scanBody, utf8ErrorOffset } = await import('../../src/celery/json-text.js')
  const nest = (d: number, leaf = '1') => Buffer.from(`{"a":${'['.repeat(d)}${leaf}${']'.repeat(d)}}`)
  t.match(scanBody(nest(200), 201), { ok: true, suspect: false })
  t.same(scanBody(nest(201), 201), { ok: false, reason: 'depth' })
  t.same(scanBody(nest(5000, '"\\u005f_proto__"'), 201), { ok: false, reason: 'depth' }, 'a suspect string does not end the scan early')
  t.match(scanBody(nest(3, '{"__proto__":1}'), 201), { ok: true, suspect: true })
  t.same(scanBody(Buffer.from('[1]'), 10), { ok: false, reason: 'invalid' }, 'bodies are objects')
  t.same(scanBody(Buffer.from([0x7b, 0xff, 0x7d]), 10), { ok: false, reason: 'utf8' })
  fc.assert(fc.property(fc.uint8Array({ maxLength: 12 }), bytes => {
    const b = Buffer.from(bytes)
    const off = utf8ErrorOffset(b)
    return (off === -1) === isUtf8(b) && (off === -1 || isUtf8(b.subarray(0, off)))
  }), { numRuns: 20000, seed: 2026 })
})
