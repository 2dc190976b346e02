// A backend-for-frontend for examples/browser/index.html: it serves the page and holds the API token, so the
// page never sees it; the page asks it for a short-lived ticket (POST /ticket) and talks to the gateway itself,
// cross-origin, with that ticket. Plain node:http, no dependencies.
//
//   GATEWAY_URL=http://localhost:8080 GATEWAY_TOKEN=<a read token> node examples/browser/server.mjs
//   then open http://127.0.0.1:3000/?task=<task id>   (the gateway needs RG_CORS_ORIGINS=http://127.0.0.1:3000)
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:http'

const HOST = process.env.HOST ?? '127.0.0.1'
const PORT = Number(process.env.PORT ?? 3000)
const GATEWAY_URL = (process.env.GATEWAY_URL ?? 'http://localhost:8080').replace(/\/$/, '')
const GATEWAY_TOKEN = process.env.GATEWAY_TOKEN ?? ''
const TASK_ID = /^[A-Za-z0-9][A-Za-z0-9._:@+-]{0,254}$/
const files = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8']
}

function send (res, status, type, body) {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' })
  res.end(body)
}

/** Mints a ticket for one task with the token this server holds; the page gets the ticket, never the token. */
async function ticket (req, res) {
  let body = ''
  for await (const chunk of req) {
    body += chunk
    if (body.length > 4096) return send(res, 413, 'application/json', '{"error":"body too large"}')
  }
  let taskId
  try { ({ taskId } = JSON.parse(body)) } catch { taskId = undefined }
  if (typeof taskId !== 'string' || !TASK_ID.test(taskId)) return send(res, 400, 'application/json', '{"error":"give {\\"taskId\\": \\"...\\"}"}')
  // Here a real backend checks that the signed-in user may see this task.
  const answer = await fetch(`${GATEWAY_URL}/v1/tickets`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${GATEWAY_TOKEN}` },
    body: JSON.stringify({ taskIds: [taskId], ttlSeconds: 60 })
  })
  const minted = await answer.json()
  if (!answer.ok) return send(res, 502, 'application/json', JSON.stringify({ error: 'the gateway refused the ticket', detail: minted.detail }))
  send(res, 200, 'application/json', JSON.stringify({ gateway: GATEWAY_URL, ticket: minted.ticket, expiresAt: minted.expiresAt }))
}

const server = createServer((req, res) => {
  const path = new URL(req.url ?? '/', 'http://x').pathname
  if (req.method === 'POST' && path === '/ticket') {
    ticket(req, res).catch(err => send(res, 502, 'application/json', JSON.stringify({ error: String(err.message) })))
    return
  }
  const file = files[path]
  if (req.method !== 'GET' || file === undefined) return send(res, 404, 'text/plain', 'not found')
  readFile(new URL(file[0], import.meta.url)).then(data => send(res, 200, file[1], data), () => send(res, 500, 'text/plain', 'unreadable'))
})

server.listen(PORT, HOST, () => {
  const { port } = server.address()
  process.stdout.write(`example page on http://${HOST}:${port}/ (gateway ${GATEWAY_URL})\n`)
})
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)))
