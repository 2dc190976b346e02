/**
 * #24: docs/redis-errors.md carries the Redis error reply table of src/redis/replies.ts, row for row, and the
 * rows of every problem code and metric this page introduces.
 */
import { readFileSync } from 'node:fs'
import t from 'tap'
import { PROBLEM_TYPES } from '../../src/errors.js'
import { REPLY_TABLE, type ReplyRow } from '../../src/redis/replies.js'

const page = readFileSync(new URL('../../docs/redis-errors.md', import.meta.url), 'utf8')

/** A row as the page writes it. */
const docRow = (r: ReplyRow): string =>
  `| \`${r.prefix}\` | ${r.status ?? '—'} | ${r.code === null ? '—' : `\`${r.code}\``} | ${r.retryAfterSeconds ?? '—'} | ${r.retrySafe} | ${r.action} |`

t.test('the reply table in docs/redis-errors.md equals the one in code', async t => {
  const section = page.slice(page.indexOf('## Redis error replies'), page.indexOf('\n## ', page.indexOf('## Redis error replies') + 1))
  const rows = section.split('\n').filter(l => /^\| `/.test(l))
  t.same(rows, REPLY_TABLE.map(docRow), 'docs rows = REPLY_TABLE (regenerate the rows from src/redis/replies.ts)')
})

t.test('every code the table answers with is a declared problem, listed with its status', async t => {
  for (const r of REPLY_TABLE) {
    if (r.code === null) continue
    const p = PROBLEM_TYPES[r.code]
    t.equal(p.status, r.status, `${r.prefix}: the row's status is ${r.code}'s`)
  }
  for (const code of ['RG_REDIS_OUT_OF_MEMORY', 'RG_REDIS_CANNOT_PERSIST', 'RG_REDIS_DENIED'] as const) {
    const p = PROBLEM_TYPES[code]
    t.match(page, `| ${p.status} | \`${code}\` | \`/problems/${p.slug}\` | ${p.title} |`, code)
  }
})
