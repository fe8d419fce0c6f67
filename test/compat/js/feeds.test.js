'use strict'
// Feeds through the official client: ow.feeds.create/get/delete invoke the
// catalogue feed action /whisk.system/alarms/alarm with lifecycleEvent,
// triggerName and authKey, as the client does on OpenWhisk.

const { describe, it, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { auth, client, uniqueName, rejectsWith, eventually, code } = require('./lib/env')

const ow = client()
const feed = '/whisk.system/alarms/alarm'

describe('alarm feeds', () => {
  const trigger = uniqueName('alarmed')
  const action = uniqueName('woken')
  const rule = uniqueName('on-alarm')

  before(async () => {
    await ow.actions.create({ name: action, action: code.echo })
    await ow.triggers.create({ name: trigger, trigger: { annotations: [{ key: 'feed', value: feed }] } })
    await ow.rules.create({ name: rule, trigger, action })
  })

  after(async () => {
    await ow.feeds.delete({ name: feed, trigger }).catch(() => {})
    await ow.rules.delete({ name: rule }).catch(() => {})
    await ow.triggers.delete({ name: trigger }).catch(() => {})
    await ow.actions.delete({ name: action }).catch(() => {})
  })

  it('the catalogue lists the alarms feeds', async () => {
    const pkg = await ow.packages.get({ name: '/whisk.system/alarms' })
    const feeds = (pkg.feeds || []).map(f => f.name).sort()
    assert.deepEqual(feeds, ['alarm', 'interval', 'once'])
  })

  it('a bad cron is refused with a message naming cron', async () => {
    const err = await rejectsWith(ow.feeds.create({ name: feed, trigger, params: { cron: 'now and then' } }), 502)
    assert.match(err.error.response.result.error, /^cron: pattern "now and then" is not valid/)
  })

  it('create wires a 6-field cron alarm that fires the rule\'s action', async () => {
    const activation = await ow.feeds.create({ name: feed, trigger, params: { cron: '* * * * * *', trigger_payload: { from: 'alarm' } } })
    assert.equal(activation.response.success, true)
    await eventually(async () => {
      const list = await ow.activations.list({ name: action, limit: 20, docs: true })
      assert.ok(list.some(a => a.response.result.from === 'alarm'), `no alarm activation of ${action} yet`)
    })
  })

  it('get (READ) answers the state and parameters, not the key', async () => {
    const activation = await ow.feeds.get({ name: feed, trigger })
    const state = activation.response.result
    assert.equal(state.status, 'active')
    assert.equal(state.config.cron, '* * * * * *')
    assert.ok(!JSON.stringify(state).includes(auth.split(':')[1]), 'READ shows the key')
  })

  it('delete stops the feed and READ then says so', async () => {
    const activation = await ow.feeds.delete({ name: feed, trigger })
    assert.equal(activation.response.result.status, 'deleted')
    const err = await rejectsWith(ow.feeds.get({ name: feed, trigger }), 502)
    assert.match(err.error.response.result.error, /has no feed/)
  })
})
