'use strict'
// Triggers, rules, packages and sequences through the official client:
// fire → rule → action activation traced by `cause`, rules enabled and
// disabled, packages with bindings and parameter precedence, the
// /whisk.system catalogue, and sequences.

const { describe, it, before } = require('node:test')
const assert = require('node:assert/strict')
const { client, namespace, uniqueName, rejectsWith, assertErrorBody, eventually, code } = require('./lib/env')

const ow = client()

// activationsCausedBy polls until count activations of action name have
// cause == id, and returns them.
async function activationsCausedBy (name, id, count) {
  return eventually(async () => {
    const list = await ow.activations.list({ name, limit: 50, docs: true })
    const caused = list.filter(a => a.cause === id)
    assert.equal(caused.length, count, `activations of ${name} caused by ${id}`)
    return caused
  })
}

describe('triggers and rules', () => {
  const trigger = uniqueName('trigger')
  const action = uniqueName('target')
  const rule = uniqueName('rule')

  before(async () => {
    await ow.actions.create({ name: action, action: code.echo })
    await ow.triggers.create({ name: trigger, trigger: { parameters: [{ key: 'fromTrigger', value: 1 }, { key: 'x', value: 'trigger' }] } })
    await ow.rules.create({ name: rule, trigger, action })
  })

  it('get returns the trigger with its active rule', async () => {
    const t = await ow.triggers.get({ name: trigger })
    assert.equal(t.namespace, namespace)
    assert.equal(t.name, trigger)
    const r = t.rules[`${namespace}/${rule}`]
    assert.ok(r, `trigger lists rule ${rule}: ${JSON.stringify(t.rules)}`)
    assert.equal(r.status, 'active')
  })

  it('fire runs the rule\'s action with trigger parameters under the payload', async () => {
    const fired = await ow.triggers.invoke({ name: trigger, params: { x: 'payload' } })
    assert.match(fired.activationId, /^[0-9a-f]{32}$/)
    const [activation] = await activationsCausedBy(action, fired.activationId, 1)
    assert.deepEqual(activation.response.result, { fromTrigger: 1, x: 'payload' })
    const triggerActivation = await eventually(() => ow.activations.get({ name: fired.activationId }))
    assert.equal(triggerActivation.name, trigger)
    assert.ok(triggerActivation.logs.some(l => l.includes(activation.activationId)),
      `trigger activation logs name the action activation: ${triggerActivation.logs}`)
  })

  it('a disabled rule fires nothing and enable resumes', async () => {
    await ow.rules.disable({ name: rule })
    const r = await ow.rules.get({ name: rule })
    assert.equal(r.status, 'inactive')
    const before = (await ow.activations.list({ name: action, limit: 50 })).length
    await ow.triggers.invoke({ name: trigger })
    await ow.rules.enable({ name: rule })
    const fired = await ow.triggers.invoke({ name: trigger, params: { again: true } })
    await activationsCausedBy(action, fired.activationId, 1)
    // The fire while disabled would have finished before the later one did.
    const after = (await ow.activations.list({ name: action, limit: 50 })).length
    assert.equal(after, before + 1, 'the fire with the rule disabled invoked the action')
  })

  it('a rule naming a missing action is refused', async () => {
    const err = await rejectsWith(ow.rules.create({ name: uniqueName('bad'), trigger, action: uniqueName('missing') }), 400)
    assertErrorBody(err.error)
    assert.match(err.error.error, /action/)
  })

  it('rules list and delete', async () => {
    const names = (await ow.rules.list()).map(r => r.name)
    assert.ok(names.includes(rule), `list has ${rule}: ${names}`)
    await ow.rules.delete({ name: rule })
    await rejectsWith(ow.rules.get({ name: rule }), 404)
    await ow.triggers.delete({ name: trigger })
    await rejectsWith(ow.triggers.invoke({ name: trigger }), 404)
  })
})

describe('packages', () => {
  const pkg = uniqueName('pkg')
  const binding = uniqueName('binding')
  const action = uniqueName('show')

  before(async () => {
    await ow.packages.create({ name: pkg, package: { parameters: [{ key: 'p', value: 'package' }, { key: 'q', value: 'package' }, { key: 'r', value: 'package' }] } })
    await ow.actions.create({ name: `${pkg}/${action}`, action: code.echo, params: { r: 'action' } })
    await ow.packages.create({
      name: binding,
      package: { binding: { namespace, name: pkg }, parameters: [{ key: 'q', value: 'binding' }, { key: 'r', value: 'binding' }] }
    })
  })

  it('get lists the package\'s actions', async () => {
    const p = await ow.packages.get({ name: pkg })
    assert.equal(p.name, pkg)
    assert.ok(p.actions.some(a => a.name === action), JSON.stringify(p.actions))
  })

  it('parameters: package < binding < action < invocation', async () => {
    const result = await ow.actions.invoke({ name: `${binding}/${action}`, blocking: true, result: true, params: { s: 'invocation' } })
    assert.deepEqual(result, { p: 'package', q: 'binding', r: 'action', s: 'invocation' })
  })

  it('a binding to a missing package is refused', async () => {
    const err = await rejectsWith(ow.packages.create({ name: uniqueName('b'), package: { binding: { namespace, name: uniqueName('missing') } } }), 400)
    assertErrorBody(err.error)
  })

  it('/whisk.system/utils/echo is readable and invocable', async () => {
    const result = await ow.actions.invoke({ name: '/whisk.system/utils/echo', blocking: true, result: true, params: { hello: 'world' } })
    assert.deepEqual(result, { hello: 'world' })
  })
})

describe('sequences', () => {
  const first = uniqueName('first')
  const second = uniqueName('second')
  const seq = uniqueName('seq')

  before(async () => {
    await ow.actions.create({ name: first, action: 'function main(p) { return {n: p.n + 1} }' })
    await ow.actions.create({ name: second, action: 'function main(p) { return {n: p.n * 10} }' })
    await ow.actions.create({
      name: seq,
      action: { exec: { kind: 'sequence', components: [`/${namespace}/${first}`, '/whisk.system/utils/echo', `/${namespace}/${second}`] } }
    })
  })

  it('each result feeds the next component', async () => {
    const activation = await ow.actions.invoke({ name: seq, blocking: true, params: { n: 1 } })
    assert.deepEqual(activation.response.result, { n: 20 })
    assert.equal(activation.logs.length, 3, `logs list the component activations: ${activation.logs}`)
  })
})

// Rule filters (a Wisp extension, an extra field of the rule body): the
// official client still creates, reads, updates, enables and lists rules,
// and a filter set through the REST API survives all of it.
describe('rule filters with the official client', () => {
  const { raw } = require('./lib/env')
  const trigger = uniqueName('ftrigger')
  const action = uniqueName('ftarget')
  const plain = uniqueName('fplain')
  const hot = uniqueName('fhot')

  before(async () => {
    await ow.actions.create({ name: action, action: code.echo })
    await ow.triggers.create({ name: trigger })
    await ow.rules.create({ name: plain, trigger, action })
    const res = await raw(`namespaces/_/rules/${hot}`, {
      method: 'PUT',
      body: { trigger: `/_/${trigger}`, action: `/_/${action}`, filter: 'params.temp > 30' }
    })
    assert.equal(res.status, 200, JSON.stringify(res.body))
  })

  it('get and list return the filter; a rule without one has none', async () => {
    assert.equal((await ow.rules.get({ name: hot })).filter, 'params.temp > 30')
    assert.equal((await ow.rules.get({ name: plain })).filter, undefined)
    const listed = (await ow.rules.list()).find(r => r.name === hot)
    assert.equal(listed.filter, 'params.temp > 30')
  })

  it('update, disable and enable through the client keep the filter', async () => {
    await ow.rules.update({ name: hot, trigger, action })
    await ow.rules.disable({ name: hot })
    await ow.rules.enable({ name: hot })
    const r = await ow.rules.get({ name: hot })
    assert.equal(r.status, 'active')
    assert.equal(r.filter, 'params.temp > 30')
  })

  it('a fire runs only the rules whose filter passes', async () => {
    const fired = await ow.triggers.invoke({ name: trigger, params: { temp: 12 } })
    const [activation] = await activationsCausedBy(action, fired.activationId, 1)
    assert.deepEqual(activation.response.result, { temp: 12 })
    const t = await eventually(() => ow.activations.get({ name: fired.activationId }))
    assert.ok(t.logs.some(l => l.includes(`filtered the event out`) && l.includes(hot)), `logs: ${t.logs}`)
  })

  it('a bad filter is a 400 naming the field and position', async () => {
    const res = await raw(`namespaces/_/rules/${uniqueName('fbad')}`, {
      method: 'PUT',
      body: { trigger: `/_/${trigger}`, action: `/_/${action}`, filter: 'params.temp >' }
    })
    assert.equal(res.status, 400)
    assertErrorBody(res.body)
    assert.match(res.body.error, /^filter: line 1, column 14: Syntax error/)
  })
})
