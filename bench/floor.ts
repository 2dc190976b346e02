/**
 * The floor: Node's own HTTP server answering, from memory, exactly the bytes the gateway answers to a poll —
 * the cached view of the hot key (/hot), its raw document (/hot-raw) and the 404 problem of a task with nothing
 * stored (/miss), each with the gateway's own status, headers and body, copied from the gateway at start. No
 * routing, hooks, auth, metrics, cache lookup or Redis: nothing a gateway on Node can do less of per request.
 * What it reaches against webdis in the same rounds bounds what any Fastify gateway can reach; a target above
 * it is out of reach on this machine, whatever the gateway does.
 * Usage: node --import tsx bench/floor.ts <http port> <gateway url>
 */
import { createServer } from 'node:http'

const [portArg, gateway = ''] = process.argv.slice(2)

interface Canned { status: number, headers: Record<string, string>, body: Buffer }

/** The gateway's answer to `path`, minus what Node writes itself (date, connection, keep-alive). */
async function copy (path: string): Promise<Canned> {
  // identity: fetch asks for gzip/br by default, and would hand back a body it decoded under the encoded headers.
  const res = await fetch(`${gateway}${path}`, { headers: { 'accept-encoding': 'identity' } })
  const headers: Record<string, string> = {}
  res.headers.forEach((value, name) => {
    if (!['date', 'connection', 'keep-alive', 'transfer-encoding'].includes(name)) headers[name] = value
  })
  return { status: res.status, headers, body: Buffer.from(await res.arrayBuffer()) }
}

const answers = new Map<string, Canned>([
  ['/hot', await copy('/v1/results/bench-4KB')],
  ['/hot-raw', await copy('/v1/results/bench-4KB/raw')],
  ['/miss', await copy('/v1/results/no-such-task')]
])
const notFound: Canned = { status: 404, headers: { 'content-length': '0' }, body: Buffer.alloc(0) }

const server = createServer((req, res) => {
  const a = answers.get(req.url ?? '') ?? notFound
  res.writeHead(a.status, a.headers)
  res.end(a.body)
})
server.listen(Number(portArg ?? 0), '127.0.0.1')
process.on('SIGTERM', () => { server.close(() => process.exit(0)) })
