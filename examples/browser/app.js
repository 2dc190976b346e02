/* global location, EventSource */
// Live progress of one Celery task: a ticket from this page's own server (which holds the API token), then a
// cross-origin EventSource on the gateway with ?ticket= (EventSource cannot send Authorization), then the
// result fetched with its ETag and re-validated (304). No build step, no dependencies.
const $ = (id) => document.getElementById(id)
const taskId = new URLSearchParams(location.search).get('task') ?? ''
$('task').textContent = taskId

/** A ticket for this task, minted by the page's own server; it is good for the task's read routes only. */
async function getTicket () {
  const res = await fetch('/ticket', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ taskId }) })
  if (!res.ok) throw new Error(`ticket: ${res.status} ${await res.text()}`)
  return res.json()
}

/** Celery's PROGRESS convention: update_state(state='PROGRESS', meta={'current': n, 'total': m}). */
function percentOf (view) {
  if (view === null) return 0
  if (view.ready) return 100
  const meta = view.result
  if (view.state === 'PROGRESS' && meta !== null && typeof meta === 'object' && Number(meta.total) > 0) {
    return Math.max(0, Math.min(100, Math.round(100 * Number(meta.current) / Number(meta.total))))
  }
  return 0
}

function show (view) {
  const state = view === null ? 'PENDING' : view.state
  const pct = percentOf(view)
  $('status').textContent = state
  $('percent').textContent = `${pct}%`
  $('fill').style.width = `${pct}%`
  $('fill').className = `fill${view?.ready ? (view.state === 'SUCCESS' ? ' done' : ' failed') : ''}`
  $('bar').setAttribute('aria-valuenow', String(pct))
  const li = document.createElement('li')
  li.textContent = state === 'PROGRESS' ? `PROGRESS ${pct}%` : state
  li.dataset.state = state
  li.dataset.percent = String(pct)
  $('steps').append(li)
}

/** The finished result, then the same request with If-None-Match: the gateway answers 304 while it is current. */
async function showResult ({ gateway, ticket }) {
  const url = `${gateway}/v1/results/${encodeURIComponent(taskId)}?ticket=${encodeURIComponent(ticket)}`
  const first = await fetch(url, { cache: 'no-store' })
  const view = await first.json()
  $('result').textContent = JSON.stringify(view.result, null, 2)
  const etag = first.headers.get('etag') // readable cross-origin: the gateway exposes it
  const again = await fetch(url, { cache: 'no-store', headers: { 'if-none-match': etag } })
  $('conditional').textContent = `ETag ${etag}; conditional fetch: ${again.status}${again.status === 304 ? ' Not Modified' : ''}`
  $('conditional').dataset.etag = etag ?? ''
  $('conditional').dataset.status = String(again.status)
}

async function follow () {
  const grant = await getTicket()
  const url = `${grant.gateway}/v1/results/${encodeURIComponent(taskId)}/events?ticket=${encodeURIComponent(grant.ticket)}`
  const events = new EventSource(url)
  events.addEventListener('state', (e) => show(JSON.parse(e.data)))
  events.addEventListener('end', (e) => {
    events.close() // or EventSource reconnects by itself
    const { reason } = JSON.parse(e.data)
    if (reason === 'ready') showResult(grant).catch(err => { $('conditional').textContent = String(err) })
    else if (reason === 'timeout') follow().catch(fail) // a fresh ticket, a fresh stream
    else fail(new Error(`stream ended: ${reason}`))
  })
  events.onerror = () => { if (events.readyState === EventSource.CLOSED) fail(new Error('the stream was refused (ticket expired?)')) }
}

function fail (err) {
  $('status').textContent = `error: ${err.message}`
}

follow().catch(fail)
