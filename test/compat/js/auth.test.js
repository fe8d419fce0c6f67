'use strict'
// Authentication, authorisation and error statuses: 401 for a wrong or missing
// key, 403 for another namespace, 404 for a missing entity, 400 for a
// malformed action, each with an OpenWhisk error body.

const { describe, it, before } = require('node:test')
const assert = require('node:assert/strict')
const {
  auth, otherAuth, namespace, otherNamespace, client, uniqueName,
  rejectsWith, assertErrorBody, raw, code
} = require('./lib/env')

const ow = client()

describe('authentication', () => {
  it('rejects a wrong key with 401', async () => {
    const [uuid] = auth.split(':')
    const wrong = client(`${uuid}:${'0'.repeat(64)}`)
    const err = await rejectsWith(wrong.actions.list(), 401)
    assertErrorBody(err.error)
  })

  it('rejects an unknown subject with 401', async () => {
    const unknown = client(`00000000-0000-4000-8000-000000000000:${'1'.repeat(64)}`)
    await rejectsWith(unknown.namespaces.list(), 401)
  })

  it('rejects a request without credentials with 401', async () => {
    const res = await raw('namespaces/_/actions', { apiKey: null })
    assert.equal(res.status, 401)
    assertErrorBody(res.body)
  })
})

describe('authorisation across namespaces', () => {
  const theirs = uniqueName('theirs')

  before(async () => {
    await client(otherAuth).actions.create({ name: theirs, action: code.echo })
  })

  it('lets the owner read it', async () => {
    const action = await client(otherAuth).actions.get({ name: theirs })
    assert.equal(action.namespace, otherNamespace)
  })

  it("forbids reading another namespace's action (403)", async () => {
    const err = await rejectsWith(ow.actions.get({ name: `/${otherNamespace}/${theirs}` }), 403)
    assertErrorBody(err.error)
  })

  it("forbids invoking another namespace's action (403)", async () => {
    await rejectsWith(ow.actions.invoke({ name: `/${otherNamespace}/${theirs}`, blocking: true }), 403)
  })

  it("forbids deleting another namespace's action (403)", async () => {
    await rejectsWith(ow.actions.delete({ name: `/${otherNamespace}/${theirs}` }), 403)
    const still = await client(otherAuth).actions.get({ name: theirs })
    assert.equal(still.name, theirs)
  })

  it('forbids listing another namespace (403)', async () => {
    await rejectsWith(ow.actions.list({ namespace: otherNamespace }), 403)
  })

  it('answers 403, not 404, for a missing entity in another namespace', async () => {
    await rejectsWith(ow.actions.get({ name: `/${otherNamespace}/${uniqueName('nothing')}` }), 403)
  })

  it('accepts its own namespace by name as well as "_"', async () => {
    const list = await ow.actions.list({ namespace })
    assert.ok(Array.isArray(list))
  })
})

describe('missing entities', () => {
  it('answers 404 for get, delete and invoke of a missing action', async () => {
    const name = uniqueName('missing')
    assertErrorBody((await rejectsWith(ow.actions.get({ name }), 404)).error)
    assertErrorBody((await rejectsWith(ow.actions.delete({ name }), 404)).error)
    assertErrorBody((await rejectsWith(ow.actions.invoke({ name, blocking: true }), 404)).error)
  })
})

describe('malformed requests', () => {
  it('answers 400 for an unknown exec kind, naming the field', async () => {
    const name = uniqueName('badkind')
    const err = await rejectsWith(
      ow.actions.create({ name, action: { exec: { kind: 'nodejs:bogus', code: code.echo } } }),
      400)
    assertErrorBody(err.error)
    assert.match(err.error.error, /kind/i, `message does not name the kind field: ${err.error.error}`)
    await rejectsWith(ow.actions.get({ name }), 404)
  })

  it('answers 400 for a body that is not JSON', async () => {
    const res = await raw(`namespaces/_/actions/${uniqueName('badjson')}`, {
      method: 'PUT',
      rawBody: '{"exec": {"kind": '
    })
    assert.equal(res.status, 400)
    assertErrorBody(res.body)
  })
})
