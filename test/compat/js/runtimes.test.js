'use strict'
// Runtimes beyond inline Node.js: an inline python:default action and a zipped
// Node.js action whose package.json names the entry file.

const { describe, it, before } = require('node:test')
const assert = require('node:assert/strict')
const { client, namespace, uniqueName, eventually } = require('./lib/env')
const { zip } = require('./lib/zip')

const ow = client()

describe('python:default action', () => {
  const name = uniqueName('py')
  const pythonCode = [
    'def main(args):',
    '    name = args.get("name", "world")',
    '    print("greeting " + name)',
    '    return {"greeting": "hello " + name}',
    ''
  ].join('\n')

  it('creates it with a resolved python kind', async () => {
    const action = await ow.actions.create({ name, action: pythonCode, kind: 'python:default' })
    assert.equal(action.namespace, namespace)
    assert.match(action.exec.kind, /^python:/)
    assert.notEqual(action.exec.kind, 'python:default', 'kind must come back resolved')
    assert.equal(action.exec.code, pythonCode)
  })

  it('invokes it blocking and returns the result', async () => {
    const activation = await ow.actions.invoke({ name, blocking: true, params: { name: 'wisp' } })
    assert.equal(activation.response.success, true, JSON.stringify(activation.response))
    assert.deepEqual(activation.response.result, { greeting: 'hello wisp' })
    const logs = await eventually(async () => {
      const { logs } = await ow.activations.logs({ activationId: activation.activationId })
      assert.ok(logs.some(l => /^\S+\s+stdout: greeting wisp$/.test(l)), `logs: ${JSON.stringify(logs)}`)
      return logs
    })
    assert.ok(logs.length >= 1)
  })
})

describe('zipped nodejs action', () => {
  const name = uniqueName('zip')
  const archive = zip({
    'package.json': JSON.stringify({ name: 'zipped-action', version: '1.0.0', main: 'lib/handler.js' }),
    'lib/': '',
    'lib/handler.js': [
      "const { describe } = require('./util')",
      'exports.main = function (params) {',
      '  return { zipped: true, helper: describe(), params }',
      '}',
      ''
    ].join('\n'),
    'lib/util.js': "exports.describe = () => 'from lib/util.js'\n",
    'index.js': "exports.main = () => ({ error: 'index.js ran: package.json main was ignored' })\n"
  })

  before(async () => {
    // The client sends a Buffer as base64 in exec.code with no binary flag.
    const action = await ow.actions.create({ name, action: archive, kind: 'nodejs:default' })
    assert.equal(action.namespace, namespace)
    assert.match(action.exec.kind, /^nodejs:/)
  })

  it('is stored as binary code', async () => {
    const action = await ow.actions.get({ name, code: false })
    assert.equal(action.exec.binary, true, 'base64 zip code must be recognised as binary')
    const withCode = await ow.actions.get({ name })
    assert.equal(withCode.exec.code, archive.toString('base64'))
  })

  it('runs the file that package.json main names, with its siblings', async () => {
    const result = await ow.actions.invoke({ name, blocking: true, result: true, params: { n: 7 } })
    assert.deepEqual(result, { zipped: true, helper: 'from lib/util.js', params: { n: 7 } })
  })
})
