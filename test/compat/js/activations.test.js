'use strict'
// Activation records: get, logs, result, and list with limit and name filter.

const { describe, it, before } = require('node:test')
const assert = require('node:assert/strict')
const { client, namespace, uniqueName, rejectsWith, assertErrorBody, eventually, code } = require('./lib/env')

const ow = client()
const LOG_LINE = /^(\S+)\s+(stdout|stderr): (.*)$/

describe('activations', () => {
  const logger = uniqueName('logger')
  const bystander = uniqueName('bystander')
  let first
  let second

  before(async () => {
    await ow.actions.create({ name: logger, action: code.logger })
    await ow.actions.create({ name: bystander, action: code.echo })
    first = (await ow.actions.invoke({ name: logger, blocking: true, params: { who: 'alice' } })).activationId
    await ow.actions.invoke({ name: bystander, blocking: true })
    second = (await ow.actions.invoke({ name: logger, blocking: true, params: { who: 'bob' } })).activationId
    await ow.actions.invoke({ name: bystander, blocking: true })
  })

  it('gets one by id', async () => {
    const activation = await eventually(() => ow.activations.get({ activationId: first }))
    assert.equal(activation.activationId, first)
    assert.equal(activation.namespace, namespace)
    assert.equal(activation.name, logger)
    assert.equal(activation.response.success, true)
    assert.deepEqual(activation.response.result, { logged: true })
    assert.ok(Array.isArray(activation.logs))
  })

  it('returns its logs as "<timestamp> stdout: text" lines', async () => {
    const { logs } = await eventually(() => ow.activations.logs({ activationId: first }))
    assert.ok(Array.isArray(logs), `logs: ${JSON.stringify(logs)}`)
    const parsed = logs.map(line => {
      const m = LOG_LINE.exec(line)
      assert.ok(m, `log line not in OpenWhisk form: ${JSON.stringify(line)}`)
      assert.ok(!Number.isNaN(Date.parse(m[1])), `log timestamp does not parse: ${m[1]}`)
      return { stream: m[2], text: m[3] }
    })
    assert.deepEqual(parsed.filter(l => l.stream === 'stdout'), [{ stream: 'stdout', text: 'hello from alice' }])
    assert.deepEqual(parsed.filter(l => l.stream === 'stderr'), [{ stream: 'stderr', text: 'warning from alice' }])
    assert.ok(!logs.some(l => l.includes('XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX')), 'sentinel leaked into logs')
  })

  it('returns its result', async () => {
    const response = await eventually(() => ow.activations.result({ activationId: first }))
    assert.deepEqual(response.result, { logged: true })
    assert.equal(response.success, true)
    assert.equal(response.status, 'success')
  })

  it('lists the newest first, honouring limit and the name filter', async () => {
    const latest = await eventually(async () => {
      const list = await ow.activations.list({ name: logger, limit: 1 })
      assert.equal(list.length, 1, `limit=1 gave ${list.length}`)
      assert.equal(list[0].activationId, second, 'newest activation first')
      return list
    })
    assert.equal(latest[0].name, logger)
    assert.equal(latest[0].namespace, namespace)

    const all = await ow.activations.list({ name: logger })
    assert.deepEqual(all.map(a => a.activationId), [second, first])
    assert.ok(all.every(a => a.name === logger), 'name filter let other actions through')
  })

  it('limit applies without a name filter too', async () => {
    const list = await ow.activations.list({ limit: 2 })
    assert.equal(list.length, 2)
  })

  it('answers 404 for an unknown activation id', async () => {
    const err = await rejectsWith(ow.activations.get({ activationId: '0123456789abcdef0123456789abcdef' }), 404)
    assertErrorBody(err.error)
  })
})
