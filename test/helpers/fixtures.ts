/** Reads the captured Celery payloads in test/fixtures/captured (see its README). */
import { readFileSync } from 'node:fs'

interface Capture {
  keys: Array<{ key: string, type: string, ttl: number, value_b64: string }>
  published: Array<{ channel: string, payload_b64: string }>
}

export function capture (name: string): Capture {
  return JSON.parse(readFileSync(new URL(`../fixtures/captured/${name}.json`, import.meta.url), 'utf8')) as Capture
}

/** The stored value of the first `celery-task-meta-*` key of a capture, with its task id. */
export function capturedResult (name: string): { taskId: string, value: Buffer, ttl: number } {
  const key = capture(name).keys.find(k => k.key.startsWith('celery-task-meta-'))
  if (key === undefined) throw new Error(`no result key in capture ${name}`)
  return { taskId: key.key.slice('celery-task-meta-'.length), value: Buffer.from(key.value_b64, 'base64'), ttl: key.ttl }
}
