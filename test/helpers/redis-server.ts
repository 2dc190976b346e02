/** Test harness: real redis-server processes on free loopback ports, stopped by pid in t.teardown. */
import { startRedisServer, type SpawnedRedis } from '../../src/redis/spawn.js'

interface TapLike { teardown: (fn: () => unknown) => void }

export async function startRedis (t: TapLike, extraArgs: string[] = []): Promise<SpawnedRedis> {
  const redis = await startRedisServer(extraArgs)
  t.teardown(() => redis.stop())
  return redis
}
