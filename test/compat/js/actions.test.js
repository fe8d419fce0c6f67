'use strict'
// Action CRUD through the official client: create, conflict, update, get
// (with and without code), list, delete.

const { describe, it } = require('node:test')
const assert = require('node:assert/strict')
const { client, namespace, uniqueName, rejectsWith, assertErrorBody, code } = require('./lib/env')

const ow = client()

describe('action lifecycle', () => {
  const name = uniqueName('crud')
  const updatedCode = 'function main(params) { return { updated: true, params } }'

  it('creates a nodejs:default action and answers with the real namespace and a resolved kind', async () => {
    const action = await ow.actions.create({ name, action: code.echo, kind: 'nodejs:default' })
    assert.equal(action.name, name)
    assert.equal(action.namespace, namespace, 'namespace must be the real name, not "_"')
    assert.equal(action.version, '0.0.1')
    assert.equal(action.publish, false)
    assert.equal(typeof action.exec, 'object')
    assert.match(action.exec.kind, /^nodejs:/)
    assert.notEqual(action.exec.kind, 'nodejs:default', 'kind must come back resolved')
    assert.equal(action.exec.code, code.echo)
    assert.equal(action.exec.binary, false)
    assert.ok(Array.isArray(action.annotations), 'annotations is an array of {key, value}')
    assert.deepEqual(action.parameters, [])
    assert.deepEqual(action.limits, { timeout: 60000, memory: 256, logs: 10, concurrency: 1 })
  })

  it('refuses to create it again without overwrite (409)', async () => {
    const err = await rejectsWith(ow.actions.create({ name, action: code.echo }), 409)
    assertErrorBody(err.error)
  })

  it('updates it with overwrite=true and bumps the version', async () => {
    const action = await ow.actions.update({ name, action: updatedCode, params: { greeting: 'hi' } })
    assert.equal(action.name, name)
    assert.equal(action.namespace, namespace)
    assert.equal(action.version, '0.0.2')
    assert.equal(action.exec.code, updatedCode)
    assert.deepEqual(action.parameters, [{ key: 'greeting', value: 'hi' }])
  })

  it('gets it with its code', async () => {
    const action = await ow.actions.get({ name })
    assert.equal(action.name, name)
    assert.equal(action.namespace, namespace)
    assert.equal(action.version, '0.0.2')
    assert.match(action.exec.kind, /^nodejs:/)
    assert.equal(action.exec.code, updatedCode)
    assert.deepEqual(action.parameters, [{ key: 'greeting', value: 'hi' }])
  })

  it('gets it without code when code=false', async () => {
    const action = await ow.actions.get({ name, code: false })
    assert.equal(action.name, name)
    assert.match(action.exec.kind, /^nodejs:/)
    assert.equal(action.exec.code, undefined, 'code=false must leave exec.code out')
  })

  it('gets it by its fully qualified name', async () => {
    const action = await ow.actions.get({ name: `/${namespace}/${name}` })
    assert.equal(action.name, name)
    assert.equal(action.namespace, namespace)
  })

  it('lists it', async () => {
    const actions = await ow.actions.list()
    assert.ok(Array.isArray(actions), 'list returns an array')
    const entry = actions.find(a => a.name === name)
    assert.ok(entry, `${name} missing from ${JSON.stringify(actions.map(a => a.name))}`)
    assert.equal(entry.namespace, namespace)
    assert.equal(entry.version, '0.0.2')
  })

  it('honours limit on list', async () => {
    await ow.actions.create({ name: uniqueName('crud-extra'), action: code.echo })
    const actions = await ow.actions.list({ limit: 1 })
    assert.equal(actions.length, 1)
  })

  it('deletes it and returns the deleted action', async () => {
    const action = await ow.actions.delete({ name })
    assert.equal(action.name, name)
    assert.equal(action.namespace, namespace)
  })

  it('answers 404 once it is gone', async () => {
    const err = await rejectsWith(ow.actions.get({ name }), 404)
    assertErrorBody(err.error)
    await rejectsWith(ow.actions.delete({ name }), 404)
    const actions = await ow.actions.list()
    assert.ok(!actions.some(a => a.name === name), 'deleted action still listed')
  })
})
