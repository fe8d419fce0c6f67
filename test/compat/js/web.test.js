'use strict'
// Web actions: created with the official client (annotations as wsk --web
// sets them), then called anonymously with plain HTTP (fetch), as a browser
// or curl would.

const { describe, it, before } = require('node:test')
const assert = require('node:assert/strict')
const { namespace, client, uniqueName } = require('./lib/env')

const ow = client()
const apihost = process.env.WISP_APIHOST
const webAnnotations = { 'web-export': true, 'raw-http': false, final: true }

function webURL (name, ext = '') {
  return `${apihost}/api/v1/web/${namespace}/default/${name}${ext}`
}

describe('web actions', () => {
  const hello = uniqueName('web-hello')
  const plain = uniqueName('web-plain')

  before(async () => {
    await ow.actions.create({
      name: hello,
      action: `function main(p) {
        if (p.__ow_method === 'post') return {statusCode: 201, headers: {'X-Echo': p.name}, body: {got: p.name}}
        return {body: '<h1>hello ' + (p.name || 'you') + '</h1>', greeting: 'hi', method: p.__ow_method}
      }`,
      params: { fixed: 'yes' },
      annotations: webAnnotations
    })
    await ow.actions.create({ name: plain, action: 'function main(p) { return p }' })
  })

  it('answers .http anonymously with text/html', async () => {
    const res = await fetch(webURL(hello) + '?name=Ada')
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('content-type'), 'text/html; charset=UTF-8')
    assert.equal(await res.text(), '<h1>hello Ada</h1>')
    assert.ok(res.headers.get('x-openwhisk-activation-id'))
  })

  it('answers .json with the whole result and .text with a projection', async () => {
    const json = await (await fetch(webURL(hello, '.json'))).json()
    assert.equal(json.method, 'get')
    const text = await fetch(webURL(hello, '.text/greeting'))
    assert.equal(await text.text(), 'hi')
  })

  it('takes a JSON body as parameters and answers with the status, headers and JSON body', async () => {
    const res = await fetch(webURL(hello, '.http'), {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'Grace' })
    })
    assert.equal(res.status, 201)
    assert.equal(res.headers.get('x-echo'), 'Grace')
    assert.deepEqual(await res.json(), { got: 'Grace' })
  })

  it('refuses to override a final parameter (400)', async () => {
    const res = await fetch(webURL(hello, '.json') + '?fixed=no')
    assert.equal(res.status, 400)
    assert.match((await res.json()).error, /not allowed/)
  })

  it('answers OPTIONS with CORS headers', async () => {
    const res = await fetch(webURL(hello), { method: 'OPTIONS' })
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('access-control-allow-origin'), '*')
    assert.match(res.headers.get('access-control-allow-methods'), /PATCH/)
  })

  it('does not expose an action without web-export (404)', async () => {
    const res = await fetch(webURL(plain, '.json'))
    assert.equal(res.status, 404)
    assert.equal((await res.json()).error, 'The requested resource does not exist.')
  })
})
