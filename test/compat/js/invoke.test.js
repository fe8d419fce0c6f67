'use strict'
// Invocation semantics: blocking (full activation or result only), non-blocking
// (202 and an activation id), parameter merging, and failed actions (502 with
// the activation as the error body).

const { describe, it, before } = require('node:test')
const assert = require('node:assert/strict')
const { client, namespace, uniqueName, rejectsWith, eventually, raw, code } = require('./lib/env')

const ow = client()
const ACTIVATION_ID = /^[0-9a-f]{32}$/

// assertResponse checks an activation's response. OpenWhisk hides statusCode
// from users (ActivationResponse.toExtendedJson); a server that shows it must
// show the right one.
function assertResponse (response, { status, statusCode, success, result }) {
  assert.equal(response.status, status, JSON.stringify(response))
  assert.equal(response.success, success, JSON.stringify(response))
  if (result !== undefined) {
    assert.deepEqual(response.result, result)
  }
  if ('statusCode' in response) {
    assert.equal(response.statusCode, statusCode, `statusCode for ${status}`)
  }
}

function annotation (activation, key) {
  const found = (activation.annotations || []).find(a => a.key === key)
  return found && found.value
}

describe('invoke', () => {
  const echo = uniqueName('echo')
  const appError = uniqueName('app-error')
  const throws = uniqueName('throws')
  const defaults = { a: 1, b: 'default' }

  before(async () => {
    await ow.actions.create({ name: echo, action: code.echo, params: defaults })
    await ow.actions.create({ name: appError, action: code.applicationError })
    await ow.actions.create({ name: throws, action: code.throws })
  })

  it('blocking returns the whole activation', async () => {
    const activation = await ow.actions.invoke({ name: echo, blocking: true, params: { x: 1 } })
    assert.match(activation.activationId, ACTIVATION_ID)
    assert.equal(activation.namespace, namespace)
    assert.equal(activation.name, echo)
    assert.equal(activation.version, '0.0.1')
    assert.equal(typeof activation.subject, 'string')
    assert.equal(typeof activation.start, 'number')
    assert.equal(typeof activation.end, 'number')
    assert.ok(activation.end >= activation.start, 'end before start')
    assert.equal(typeof activation.duration, 'number')
    assert.ok(Array.isArray(activation.logs), 'logs is an array')
    assertResponse(activation.response, {
      status: 'success',
      statusCode: 0,
      success: true,
      result: { a: 1, b: 'default', x: 1 }
    })
    assert.equal(annotation(activation, 'path'), `${namespace}/${echo}`)
    assert.match(String(annotation(activation, 'kind')), /^nodejs:/)
    assert.equal(typeof annotation(activation, 'limits'), 'object')
    assert.equal(typeof annotation(activation, 'waitTime'), 'number')
  })

  it('blocking with result:true returns the result, invocation parameters winning over defaults', async () => {
    const result = await ow.actions.invoke({ name: echo, blocking: true, result: true, params: { b: 'override', c: 3 } })
    assert.deepEqual(result, { a: 1, b: 'override', c: 3 })
  })

  it('blocking=true&result=true on the wire returns only the result', async () => {
    const res = await raw(`namespaces/_/actions/${echo}?blocking=true&result=true`, {
      method: 'POST',
      body: { c: 'wire' }
    })
    assert.equal(res.status, 200, JSON.stringify(res.body))
    assert.deepEqual(res.body, { a: 1, b: 'default', c: 'wire' })
  })

  it('non-blocking answers 202 with only an activation id', async () => {
    const res = await raw(`namespaces/_/actions/${echo}?blocking=false`, { method: 'POST', body: { q: 1 } })
    assert.equal(res.status, 202, JSON.stringify(res.body))
    assert.deepEqual(Object.keys(res.body), ['activationId'])
    assert.match(res.body.activationId, ACTIVATION_ID)
  })

  it('non-blocking through the client: the activation appears later', async () => {
    const started = await ow.actions.invoke({ name: echo, params: { later: true } })
    assert.deepEqual(Object.keys(started), ['activationId'])
    assert.match(started.activationId, ACTIVATION_ID)
    const activation = await eventually(() => ow.activations.get({ activationId: started.activationId }))
    assert.equal(activation.activationId, started.activationId)
    assert.equal(activation.name, echo)
    assert.equal(activation.response.success, true)
    assert.deepEqual(activation.response.result, { a: 1, b: 'default', later: true })
  })

  it('an action returning {error} is an application error: 502 with the activation', async () => {
    const err = await rejectsWith(ow.actions.invoke({ name: appError, blocking: true }), 502)
    const activation = err.error
    assert.match(activation.activationId, ACTIVATION_ID)
    assert.equal(activation.name, appError)
    assert.equal(activation.namespace, namespace)
    assertResponse(activation.response, {
      status: 'application error',
      statusCode: 1,
      success: false,
      result: { error: 'nope' }
    })
  })

  it('result:true does not hide a failure', async () => {
    // The client sends only blocking=true and unwraps the result itself, so a
    // failure still arrives as the whole activation.
    const err = await rejectsWith(ow.actions.invoke({ name: appError, blocking: true, result: true }), 502)
    assert.deepEqual(err.error.response.result, { error: 'nope' })
  })

  it('blocking=true&result=true on the wire answers a failure with 502 and the result alone', async () => {
    const res = await raw(`namespaces/_/actions/${appError}?blocking=true&result=true`, { method: 'POST', body: {} })
    assert.equal(res.status, 502, JSON.stringify(res.body))
    assert.deepEqual(res.body, { error: 'nope' })
  })

  it('an action that throws is a developer error: 502 with the activation', async () => {
    const err = await rejectsWith(ow.actions.invoke({ name: throws, blocking: true }), 502)
    const activation = err.error
    assert.match(activation.activationId, ACTIVATION_ID)
    assert.equal(activation.name, throws)
    assertResponse(activation.response, { status: 'action developer error', statusCode: 2, success: false })
    assert.equal(typeof activation.response.result.error, 'string')
    assert.match(activation.response.result.error, /boom/)
  })

  it('the failed activation is stored like any other', async () => {
    const err = await rejectsWith(ow.actions.invoke({ name: appError, blocking: true }), 502)
    const id = err.error.activationId
    const stored = await eventually(() => ow.activations.get({ activationId: id }))
    assert.equal(stored.response.success, false)
    assert.deepEqual(stored.response.result, { error: 'nope' })
  })

  it('invoking a missing action answers 404', async () => {
    await rejectsWith(ow.actions.invoke({ name: uniqueName('missing'), blocking: true }), 404)
  })
})
