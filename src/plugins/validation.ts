/**
 * Request validation with two Ajv instances: path, query and headers are strings on the wire and are coerced;
 * JSON bodies are not, so a wrong type ("60" for a number, 0 for null) is refused instead of silently changed.
 */
import fp from 'fastify-plugin'
import { Ajv, type Options } from 'ajv'
import addFormatsModule from 'ajv-formats'
import type { TSchema } from '@sinclair/typebox'

// ajv-formats ships CommonJS with a default export property.
const addFormats = (addFormatsModule as unknown as { default: (ajv: Ajv) => Ajv }).default

function makeAjv (schemas: TSchema[], opts: Options): Ajv {
  const ajv = new Ajv({ useDefaults: true, removeAdditional: false, allErrors: false, strict: false, ...opts })
  addFormats(ajv)
  for (const s of schemas) ajv.addSchema(s)
  return ajv
}

export default fp<{ schemas: TSchema[] }>(async (app, { schemas }) => {
  const body = makeAjv(schemas, { coerceTypes: false })
  const wire = makeAjv(schemas, { coerceTypes: 'array' })
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? body : wire).compile(schema))
}, { name: 'validation' })
