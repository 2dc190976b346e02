/**
 * openapi.yaml as a checker of live answers: which statuses an operation declares, and whether an answer's
 * content type and body match what the document says for that status (Ajv, JSON Schema 2020-12 as OpenAPI 3.1).
 */
import { readFileSync } from 'node:fs'
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import { parse } from 'yaml'
import { OPENAPI_PATH } from '../../scripts/openapi.js'

const addFormats = (addFormatsModule as unknown as { default: (ajv: Ajv2020) => Ajv2020 }).default

interface MediaType { schema?: unknown }
interface Response { content?: Record<string, MediaType> }
interface Operation { operationId: string, responses: Record<string, Response> }
interface Document { paths: Record<string, Record<string, Operation>> }

export interface Answer { status: number, contentType: string, body: string }

const escape = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1')

export class Spec {
  readonly doc: Document
  private readonly ajv: Ajv2020

  constructor () {
    this.doc = parse(readFileSync(OPENAPI_PATH, 'utf8')) as Document
    this.ajv = new Ajv2020({ strict: false, allErrors: true })
    addFormats(this.ajv)
    this.ajv.addFormat('binary', true)
    // The whole document under one id: its `#/components/...` references resolve inside it.
    this.ajv.addSchema(this.doc as object, 'openapi')
  }

  /** Every operation: id, method, path template, declared statuses. */
  operations (): Array<{ id: string, method: string, path: string, statuses: number[] }> {
    return Object.entries(this.doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({
      id: op.operationId, method: method.toUpperCase(), path, statuses: Object.keys(op.responses).map(Number)
    })))
  }

  private find (id: string): { path: string, method: string, op: Operation } {
    for (const [path, ops] of Object.entries(this.doc.paths)) {
      for (const [method, op] of Object.entries(ops)) if (op.operationId === id) return { path, method, op }
    }
    throw new Error(`no operation ${id} in openapi.yaml`)
  }

  /** The problems with an answer to operation `id`, [] when it matches the document. */
  check (id: string, a: Answer): string[] {
    const { path, method, op } = this.find(id)
    const response = op.responses[String(a.status)]
    if (response === undefined) return [`status ${a.status} is not declared for ${id} (body: ${a.body.slice(0, 200)})`]
    const content = response.content ?? {}
    const types = Object.keys(content)
    if (types.length === 0 || (types.length === 1 && content[types[0] ?? '']?.schema !== undefined &&
        (content[types[0] ?? '']?.schema as { type?: string }).type === 'null')) {
      return a.body === '' ? [] : [`${id} ${a.status} declares no body, got ${a.body.slice(0, 100)}`]
    }
    const type = types.find(t => a.contentType.split(';')[0]?.trim() === t)
    if (type === undefined) return [`${id} ${a.status}: content type ${a.contentType} is not one of ${types.join(', ')}`]
    if (!type.includes('json')) return []
    let body: unknown
    try { body = JSON.parse(a.body) } catch { return [`${id} ${a.status}: body is not JSON: ${a.body.slice(0, 100)}`] }
    const ref = `openapi#/paths/${escape(path)}/${method}/responses/${a.status}/content/${escape(type)}/schema`
    const validate = this.ajv.getSchema(ref) ?? this.ajv.compile({ $ref: ref })
    if (validate(body)) return []
    return (validate.errors ?? []).map(e => `${id} ${a.status}: ${e.instancePath} ${e.message ?? ''} (${a.body.slice(0, 200)})`)
  }
}
