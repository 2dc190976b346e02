import t from 'tap'
import { Redis } from 'ioredis'
import { buildTestApp } from '../helpers/app.js'
import { startRedis } from '../helpers/redis-server.js'
import { capture } from '../helpers/fixtures.js'

t.test('groups and chords from what Celery stores', async t => {
  const server = await startRedis(t)
  const app = await buildTestApp(t, server.url, { RG_WAIT_POLL_INTERVAL_MS: '600000' })
  const redis = new Redis(server.port, '127.0.0.1')
  t.teardown(() => redis.quit())
  const prefix = app.settings.redis.keyPrefix
  const restore = async (name: string) => {
    for (const k of capture(name).keys) await redis.set(`${prefix}${k.key}`, Buffer.from(k.value_b64, 'base64'))
  }

  t.test('a saved group (captured from GroupResult.save()) reports each child and the counts', async t => {
    await restore('group-saved')
    const res = await app.inject('/v1/groups/789a55d5-8e2d-4813-b4ef-13d3ee24c8b0')
    t.equal(res.statusCode, 200)
    t.match(res.json(), {
      groupId: '789a55d5-8e2d-4813-b4ef-13d3ee24c8b0',
      saved: true,
      total: 3,
      completed: 3,
      failed: 0,
      ready: 3,
      allReady: true,
      successful: true,
      states: { SUCCESS: 3 },
      chord: null
    })
    t.same(res.json().children.map((c: { taskId: string }) => c.taskId), ['64ab598f-4573-456a-92ea-369493119e4f', 'ff3dbcf3-9164-4513-85ed-d8e43d2cbe84', '593b1348-fdf3-4dcb-8981-2b41368016be'])
  })

  t.test('missing children are PENDING; failures counted; unknown groups are 404', async t => {
    const gid = 'g-mixed'
    const child = (id: string) => [[id, null], null]
    await redis.set(`${prefix}celery-taskset-meta-${gid}`, JSON.stringify({ result: [[gid, null], [child('c-ok'), child('c-bad'), child('c-none')]] }))
    await redis.set(`${prefix}celery-task-meta-c-ok`, JSON.stringify({ status: 'SUCCESS', result: 1, traceback: null, children: [], date_done: '2026-11-24T22:35:40', task_id: 'c-ok' }))
    await redis.set(`${prefix}celery-task-meta-c-bad`, JSON.stringify({ status: 'FAILURE', result: { exc_type: 'ValueError', exc_message: ['x'], exc_module: 'builtins' }, traceback: 'tb', children: [], date_done: '2026-11-24T22:35:40', task_id: 'c-bad' }))
    t.match((await app.inject(`/v1/groups/${gid}`)).json(), { total: 3, completed: 1, failed: 1, ready: 2, allReady: false, successful: false, states: { SUCCESS: 1, FAILURE: 1, PENDING: 1 } })
    const missing = await app.inject('/v1/groups/no-such-group')
    t.equal(missing.statusCode, 404)
    t.equal(missing.json().code, 'RG_GROUP_NOT_FOUND')
  })

  t.test('a running chord: progress from Celery\'s .s / .t / .j keys, without a saved group', async t => {
    const gid = 'chord-running'
    await redis.set(`${prefix}celery-taskset-meta-${gid}.s`, '3')
    await redis.zadd(`${prefix}celery-taskset-meta-${gid}.j`, 0, 'part-0', 1, 'part-1')
    t.match((await app.inject(`/v1/groups/${gid}`)).json(), { saved: false, total: 0, chord: { total: 3, completed: 2 } })
    const listed = 'chord-unordered'
    await redis.set(`${prefix}celery-taskset-meta-${listed}.s`, '2')
    await redis.set(`${prefix}celery-taskset-meta-${listed}.t`, '1')
    await redis.rpush(`${prefix}celery-taskset-meta-${listed}.j`, 'part-0')
    t.match((await app.inject(`/v1/groups/${listed}`)).json(), { chord: { total: 3, completed: 1 } }, 'list form, with a size adjustment')
  })

  t.test('waiting for a group answers when the last child is ready', async t => {
    const gid = 'g-wait'
    const child = (id: string) => [[id, null], null]
    await redis.set(`${prefix}celery-taskset-meta-${gid}`, JSON.stringify({ result: [[gid, null], [child('w-1'), child('w-2')]] }))
    const pending = app.inject(`/v1/groups/${gid}/wait?timeoutSeconds=20`)
    while (app.waiter.stats.channels < 2) await new Promise(resolve => setTimeout(resolve, 5))
    for (const id of ['w-1', 'w-2']) {
      const doc = JSON.stringify({ status: 'SUCCESS', result: id, traceback: null, children: [], date_done: '2026-11-24T22:35:40', task_id: id })
      await redis.pipeline().set(`${prefix}celery-task-meta-${id}`, doc).publish(`${prefix}celery-task-meta-${id}`, doc).exec()
    }
    t.match((await pending).json(), { timedOut: false, group: { total: 2, completed: 2, allReady: true, successful: true } })
    t.match((await app.inject('/v1/groups/g-mixed/wait?timeoutSeconds=0.1')).json(), { timedOut: true, group: { ready: 2, allReady: false } })
  })
})
