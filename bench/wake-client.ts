/**
 * The wake-latency client as a process of its own (see scenarios/wake.ts): prints its figures as one JSON line.
 * Usage: node --import tsx bench/wake-client.ts <gateway url> <redis port> <gateway pid> <waiters>
 */
import { Redis } from 'ioredis'
import { wakeLatency } from './scenarios/wake.js'

const [base = '', redisPort, pid, waiters] = process.argv.slice(2)
const redis = new Redis(Number(redisPort), '127.0.0.1')
try {
  process.stdout.write(`${JSON.stringify(await wakeLatency(base, redis, Number(pid), Number(waiters)))}\n`)
} finally {
  redis.disconnect()
}
