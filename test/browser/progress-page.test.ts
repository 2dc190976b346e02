/**
 * examples/browser in Debian's headless Chromium: the page (served by its backend-for-frontend on 127.0.0.1)
 * follows a task on the gateway at localhost — another origin — with a ticket over EventSource, shows each
 * state the gateway stores, then the result, reads the ETag and gets 304; a cross-origin DELETE passes its
 * preflight. A screenshot of the finished page goes to test/artifacts/ (untracked).
 */
import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import type { Page } from 'puppeteer-core'
import { buildTestApp } from '../helpers/app.js'
import { launchChromium } from '../helpers/chromium.js'
import { startRedis } from '../helpers/redis-server.js'
import { until } from '../helpers/until.js'
import { freePort, spawnTied, stopProcess } from '../../src/redis/spawn.js'

const READER = 'browser-reader-0123456789'
const WRITER = 'browser-writer-0123456789'
const SERVER = fileURLToPath(new URL('../../examples/browser/server.mjs', import.meta.url))
const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url))
// Chromium on a loaded 2-core machine: generous deadlines for DOM conditions (they bound, they do not measure).
const DOM_DEADLINE_MS = 60_000

t.setTimeout(300_000)

/** The steps the page has listed, as "STATE" or "PROGRESS n%". */
const steps = (page: Page) => page.$$eval('#steps li', lis => lis.map(li => li.textContent ?? ''))

t.test('the example page follows a task live across origins', async t => {
  const browser = await launchChromium(t)
  const redis = await startRedis(t)
  const pagePort = await freePort()
  const pageOrigin = `http://127.0.0.1:${pagePort}`
  const app = await buildTestApp(t, redis.url, {
    RG_AUTH_DISABLED: 'false',
    RG_AUTH_TOKENS: JSON.stringify([{ name: 'bff', token: READER, scopes: ['read'] }, { name: 'worker', token: WRITER, scopes: ['read', 'write'] }]),
    RG_CORS_ORIGINS: pageOrigin
  })
  // 'localhost': Fastify listens on every address it resolves to (127.0.0.1 and ::1), all loopback.
  await app.listen({ host: 'localhost', port: 0 })
  const gatewayPort = (app.server.address() as { port: number }).port
  const gateway = `http://localhost:${gatewayPort}`

  const bff = spawnTied(process.execPath, [SERVER], {
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(pagePort), GATEWAY_URL: gateway, GATEWAY_TOKEN: READER }
  })
  let bffOut = ''
  bff.stdout.on('data', (c: Buffer) => { bffOut += c.toString() })
  bff.stderr.on('data', (c: Buffer) => { bffOut += c.toString() })
  t.teardown(() => stopProcess(bff))
  await until(() => /example page on/.test(bffOut) || bff.exitCode !== null, 'the example server to listen')
  t.match(bffOut, /example page on/, bffOut)

  const store = async (state: string, result: unknown) => {
    const res = await fetch(`${gateway}/v1/results/job-1`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${WRITER}` },
      body: JSON.stringify({ state, result })
    })
    t.equal(res.status, 200, `stored ${state}`)
  }

  const page = await browser.newPage()
  const consoleLines: string[] = []
  page.on('console', m => { consoleLines.push(m.text()) })
  page.on('pageerror', e => { consoleLines.push(String(e)) })
  await page.setViewport({ width: 800, height: 640 })
  await page.goto(`${pageOrigin}/?task=job-1`)
  const seen = async (text: string) => {
    await page.waitForFunction((want: string) => [...document.querySelectorAll('#steps li')].some(li => li.textContent === want), { timeout: DOM_DEADLINE_MS }, text)
      .catch(async (err: unknown) => { throw new Error(`page never showed ${text}: steps ${JSON.stringify(await steps(page))}, console ${JSON.stringify(consoleLines)}: ${String(err)}`) })
  }

  // Nothing stored yet: the stream's first event says so.
  await seen('PENDING')
  await store('STARTED', { pid: 1 })
  await seen('STARTED')
  await store('PROGRESS', { current: 30, total: 100 })
  await seen('PROGRESS 30%')
  t.equal(await page.$eval('#bar', el => el.getAttribute('aria-valuenow')), '30', 'the bar stands at 30')
  await store('PROGRESS', { current: 70, total: 100 })
  await seen('PROGRESS 70%')
  await store('SUCCESS', { answer: 42, rows: 3 })
  await seen('SUCCESS')
  t.same(await steps(page), ['PENDING', 'STARTED', 'PROGRESS 30%', 'PROGRESS 70%', 'SUCCESS'], 'every step, in order, once')

  await page.waitForFunction(() => document.querySelector('#conditional')?.getAttribute('data-status') !== null, { timeout: DOM_DEADLINE_MS })
  t.same(JSON.parse(await page.$eval('#result', el => el.textContent ?? '')), { answer: 42, rows: 3 }, 'the result is shown')
  t.match(await page.$eval('#conditional', el => el.getAttribute('data-etag')), /^"view-/, 'the page read the ETag')
  t.equal(await page.$eval('#conditional', el => el.getAttribute('data-status')), '304', 'and got 304 on the conditional fetch')
  t.equal(await page.$eval('#fill', el => (el as HTMLElement).style.width), '100%')

  mkdirSync(ARTIFACTS, { recursive: true })
  const shot = `${ARTIFACTS}browser-progress.png`
  await page.screenshot({ path: shot, fullPage: true })
  t.pass(`screenshot: ${shot}`)

  // A cross-origin DELETE (not a simple request: preflighted), with a write token the test hands the page.
  const optionsBefore = await preflights(app)
  const deleted = await page.evaluate(async (url: string, token: string) => {
    const res = await fetch(url, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } })
    return { status: res.status, requestId: res.headers.get('x-request-id') }
  }, `${gateway}/v1/results/job-1`, WRITER)
  t.equal(deleted.status, 204, 'the DELETE went through: its preflight passed')
  t.ok(deleted.requestId, 'the page can read X-Request-Id')
  t.ok(await preflights(app) > optionsBefore, 'the browser sent a preflight (OPTIONS) first')
  // And a refusal is a problem the page can read, not "Failed to fetch".
  const refused = await page.evaluate(async (url: string) => {
    const res = await fetch(url, { method: 'DELETE' })
    return { status: res.status, body: await res.json() as { code: string } }
  }, `${gateway}/v1/results/job-1`)
  t.match(refused, { status: 401, body: { code: 'RG_UNAUTHENTICATED' } })
})

/** OPTIONS requests the gateway has answered, from its own /metrics. */
async function preflights (app: Awaited<ReturnType<typeof buildTestApp>>): Promise<number> {
  const text = (await app.inject('/metrics')).body
  return text.split('\n').filter(l => l.startsWith('result_gateway_http_requests_total{') && l.includes('method="OPTIONS"'))
    .reduce((n, l) => n + Number(l.split(' ').pop()), 0)
}
