/**
 * A real webhook receiver for tests: node:http on 127.0.0.1 (a free port), recording every request it gets
 * and answering as the test says (a status, a redirect, or no answer at all). Closed in t.teardown.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http'
import { randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'

export interface Received {
  path: string
  headers: IncomingHttpHeaders
  body: string
  at: number
}

export type Respond = (req: Received, n: number, res: ServerResponse) => void

interface TapLike { teardown: (fn: () => unknown) => void }

export interface Receiver {
  port: number
  /** http://127.0.0.1:<port> */
  base: string
  /** "127.0.0.1:<port>", as RG_WEBHOOK_ALLOWED_HOSTS takes it */
  hostPort: string
  received: Received[]
  /** Replaces how requests are answered (default: 204) */
  respond: (fn: Respond) => void
}

export async function startReceiver (t: TapLike, respond: Respond = (_r, _n, res) => { res.statusCode = 204; res.end() }): Promise<Receiver> {
  const received: Received[] = []
  let answer = respond
  const open = new Set<ServerResponse>()
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const r: Received = { path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString(), at: Date.now() }
      received.push(r)
      open.add(res)
      res.once('close', () => open.delete(res))
      answer(r, received.length, res)
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  t.teardown(() => new Promise<void>(resolve => {
    for (const res of open) res.destroy()
    server.closeAllConnections()
    server.close(() => resolve())
  }))
  return {
    port,
    base: `http://127.0.0.1:${port}`,
    hostPort: `127.0.0.1:${port}`,
    received,
    respond: (fn) => { answer = fn }
  }
}

/** A fresh Standard Webhooks secret (whsec_ + base64 of 24 random bytes). */
export function newSecret (): string {
  return `whsec_${randomBytes(24).toString('base64')}`
}
