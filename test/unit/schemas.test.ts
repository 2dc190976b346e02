/**
 * Request schemas bound the work they cause (#15.5): no pairwise uniqueItems anywhere (quadratic in Ajv), and
 * the batch lists carry RG_BATCH_MAX_IDS as maxItems, built once from configuration.
 */
import t from 'tap'
import { schemasFor } from '../../src/schemas/index.js'

function walk (node: unknown, path: string, visit: (node: Record<string, unknown>, path: string) => void): void {
  if (node === null || typeof node !== 'object') return
  visit(node as Record<string, unknown>, path)
  for (const [k, v] of Object.entries(node)) walk(v, `${path}/${k}`, visit)
}

t.test('no uniqueItems; batch lists bounded by the configured limit', async t => {
  const schemas = schemasFor({ batchMaxIds: 7 })
  const unique: string[] = []
  const lists: Array<[string, unknown]> = []
  for (const s of schemas) {
    walk(s, String(s.$id), (node, path) => {
      if ('uniqueItems' in node) unique.push(path)
      if (path.endsWith('/properties/taskIds')) lists.push([path, node.maxItems])
    })
  }
  t.same(unique, [], 'no schema asks Ajv for pairwise uniqueness')
  t.same(lists, [['BatchGetRequest/properties/taskIds', 7], ['BatchWaitRequest/properties/taskIds', 7], ['TicketRequest/properties/taskIds', 7]])
})
