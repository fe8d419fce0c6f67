'use strict'
// The API gateway through the official client's routes API (as its
// integration test routes.test.js does): ow.routes.create, list/get and
// delete, then the API URL called with plain HTTP.

const { describe, it, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { client, uniqueName, rejectsWith, assertErrorBody } = require('./lib/env')

const ow = client()
const webAnnotations = { 'web-export': true, 'raw-http': false, final: true }

describe('routes (API gateway)', () => {
  const action = uniqueName('route-action')
  const plain = uniqueName('route-plain')
  const basepath = '/' + uniqueName('testing')

  before(async () => {
    await ow.actions.create({
      name: action,
      action: 'function main(p) { return {statusCode: 200, body: {path: p.__ow_path, id: p.id || null, method: p.__ow_method}} }',
      annotations: webAnnotations
    })
    await ow.actions.create({ name: plain, action: 'function main(p) { return p }' })
  })

  after(async () => {
    await ow.actions.delete({ name: action })
    await ow.actions.delete({ name: plain })
  })

  it('creates, lists, serves and deletes a route', async () => {
    const created = await ow.routes.create({ action, basepath, relpath: '/foo/bar', operation: 'POST' })
    assert.match(created.gwApiUrl, new RegExp(`/api/[0-9a-f-]+${basepath}$`))

    const results = await ow.routes.list({ basepath })
    assert.equal(results.apis.length, 1)
    const apidoc = results.apis[0].value.apidoc
    assert.equal(apidoc.basePath, basepath)
    assert.ok(Object.hasOwn(apidoc.paths, '/foo/bar'))
    assert.equal(apidoc.paths['/foo/bar'].post['x-openwhisk'].action, action)

    // The default response type is json: the whole result, no path.
    const res = await fetch(created.gwApiUrl + '/foo/bar', { method: 'POST' })
    assert.equal(res.status, 200)
    assert.deepEqual(await res.json(), { statusCode: 200, body: { path: '', id: null, method: 'post' } })

    await ow.routes.delete({ basepath })
    const after = await ow.routes.list({ basepath })
    assert.equal(after.apis.length, 0)
    assert.equal((await fetch(created.gwApiUrl + '/foo/bar', { method: 'POST' })).status, 404)
  })

  it('passes path parameters', async () => {
    const created = await ow.routes.create({ action, basepath, relpath: '/books/{id}', operation: 'GET', responsetype: 'http' })
    const res = await fetch(created.gwApiUrl + '/books/42')
    assert.deepEqual(await res.json(), { path: basepath + '/books/42', id: '42', method: 'get' })
    const got = await ow.routes.get({ basepath })
    assert.equal(got.apis[0].value.apidoc.paths['/books/{id}'].get.parameters[0].name, 'id')
    await ow.routes.delete({ basepath, relpath: '/books/{id}', operation: 'GET' })
  })

  it('creates routes from a swagger document', async () => {
    const swagger = {
      swagger: '2.0',
      info: { title: 'From swagger', version: '1.0.0' },
      basePath: basepath,
      paths: { '/s': { get: { operationId: 'getS', 'x-openwhisk': { namespace: '_', package: '', action, url: 'x.http' }, responses: {} } } }
    }
    const created = await ow.routes.create({ swagger: JSON.stringify(swagger) })
    assert.equal(created.apidoc.info.title, 'From swagger')
    assert.equal((await fetch(created.gwApiUrl + '/s')).status, 200)
    await ow.routes.delete({ basepath })
  })

  it('refuses a route to a missing or non-web action, or a bad basepath', async () => {
    let err = await rejectsWith(ow.routes.create({ action: uniqueName('missing'), basepath, relpath: '/x', operation: 'GET' }), 404)
    assertErrorBody(err.error)
    assert.match(err.error.error, /^Unable to get action '.*': The requested resource does not exist\.$/)
    err = await rejectsWith(ow.routes.create({ action: plain, basepath, relpath: '/x', operation: 'GET' }), 400)
    assert.match(err.error.error, /is not a web action/)
    err = await rejectsWith(ow.routes.create({ action, basepath: 'nope', relpath: '/x', operation: 'GET' }), 502)
    assert.equal(err.error.error, "'nope' must begin with '/'.")
    err = await rejectsWith(ow.routes.create({ swagger: '{"swagger":"2.0","info":{}}' }), 502)
    assert.equal(err.error.error, 'swagger is missing the basePath field.')
    err = await rejectsWith(ow.routes.delete({ basepath: '/' + uniqueName('none') }), 502)
    assert.match(err.error.error, /^API deletion failure: API '.*' does not exist\.$/)
  })
})
