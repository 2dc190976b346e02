/**
 * result-gateway from TypeScript: types generated from openapi.yaml (openapi-typescript → api.d.ts) and a typed
 * client (openapi-fetch). store → wait → fetch → 409 on re-store → 404 → forget.
 *
 *   npx openapi-typescript openapi.yaml -o examples/typescript/api.d.ts   # after the API changes
 *   RG_URL=http://127.0.0.1:8080 RG_TOKEN=... npx tsx examples/typescript/store-wait-fetch.ts [task-id]
 */
import { randomUUID } from 'node:crypto'
import createClient from 'openapi-fetch'
import type { paths } from './api.js'

const client = createClient<paths>({
  baseUrl: process.env.RG_URL ?? 'http://127.0.0.1:8080',
  headers: { authorization: `Bearer ${process.env.RG_TOKEN ?? ''}` }
})

function expect (what: string, got: number, want: number): void {
  if (got !== want) throw new Error(`${what}: expected ${want}, got ${got}`)
  console.log(`${what}: ${got}`)
}

const taskId = process.argv[2] ?? `ts-${randomUUID()}`
const params = { path: { taskId } }

const stored = await client.PUT('/v1/results/{taskId}', { params, body: { state: 'SUCCESS', result: { sum: 42 } } })
expect('store', stored.response.status, 200)

const waited = await client.GET('/v1/results/{taskId}/wait', { params: { ...params, query: { timeoutSeconds: 5 } } })
expect('wait', waited.response.status, 200)
if (waited.data?.state !== 'SUCCESS' || waited.data.timedOut) throw new Error(`wait: ${JSON.stringify(waited.data)}`)

const fetched = await client.GET('/v1/results/{taskId}', { params })
expect('fetch', fetched.response.status, 200)
if (JSON.stringify(fetched.data?.result) !== '{"sum":42}') throw new Error(`fetch: ${JSON.stringify(fetched.data)}`)

const again = await client.PUT('/v1/results/{taskId}', { params, body: { state: 'FAILURE', error: { type: 'ValueError', message: 'late' } } })
expect('re-store', again.response.status, 409)
if (again.error?.code !== 'RG_RESULT_FINAL') throw new Error(`re-store: ${JSON.stringify(again.error)}`)

const missing = await client.GET('/v1/results/{taskId}', { params: { path: { taskId: `${taskId}-never-stored` } } })
expect('unknown task', missing.response.status, 404)
if (missing.error?.code !== 'RG_RESULT_NOT_FOUND') throw new Error(`unknown task: ${JSON.stringify(missing.error)}`)

const forgotten = await client.DELETE('/v1/results/{taskId}', { params })
expect('forget', forgotten.response.status, 204)
console.log('ok')
