// Test preload (node --import): appends the URL of every module the process imports to the file named by
// MODULE_LOG_FILE, so a test can tell what a real gateway process loaded (e.g. no OpenTelemetry when off).
import { register } from 'node:module'

const hook = `import { appendFileSync } from 'node:fs'
let file
export function initialize (data) { file = data }
export async function resolve (specifier, context, next) {
  const result = await next(specifier, context)
  appendFileSync(file, result.url + '\\n')
  return result
}`
register(`data:text/javascript,${encodeURIComponent(hook)}`, { data: process.env.MODULE_LOG_FILE })
