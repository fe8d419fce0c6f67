'use strict'
// The API root and namespaces: GET /api/v1 answers without credentials with
// build information; a key sees exactly its own namespace.

const { describe, it } = require('node:test')
const assert = require('node:assert/strict')
const { otherAuth, namespace, otherNamespace, client, raw } = require('./lib/env')

describe('api root', () => {
  it('GET /api/v1 answers 200 without credentials, with build info', async () => {
    const res = await raw('', { apiKey: null })
    assert.equal(res.status, 200, JSON.stringify(res.body))
    assert.equal(typeof res.body, 'object', `body is not JSON: ${res.body}`)
    assert.equal(typeof res.body.build, 'string', `no build in ${JSON.stringify(res.body)}`)
    assert.ok(res.body.build.length > 0, 'build is empty')
    assert.equal(typeof res.body.buildno, 'string', `no buildno in ${JSON.stringify(res.body)}`)
  })
})

describe('namespaces', () => {
  it('lists exactly the namespace of the key', async () => {
    assert.deepEqual(await client().namespaces.list(), [namespace])
    assert.deepEqual(await client(otherAuth).namespaces.list(), [otherNamespace])
  })
})
