/**
 * The tracing preload, given to node before the entry: `node --import ./dist/tracing/register.js dist/server.js`
 * (npm start, the Dockerfile's CMD, RG_WORKERS' forks inherit it). It has to run before any application module
 * is loaded so that the instrumentations see ioredis and pino being imported (ESM: the loader hook is registered
 * here). When tracing is off it returns having loaded nothing of OpenTelemetry: no cost.
 *
 * The one other file that reads process.env (server.ts is the rule): it reads only the standard OTEL_*
 * variables, as the OpenTelemetry SDK itself does (the SDK reads the rest of them directly, by design).
 */
import { tracingWanted } from './enabled.js'

if (tracingWanted(process.env)) {
  const { startTracing } = await import('./sdk.js')
  startTracing(process.env)
}
