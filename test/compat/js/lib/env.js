'use strict'
// Shared setup for the compatibility suite: the server under test comes from
// the environment (WISP_APIHOST, WISP_AUTH, WISP_OTHER_AUTH, WISP_NAMESPACE),
// which test/compat/compat_test.go sets after starting `wisp serve`.

const assert = require('node:assert/strict')
const { randomBytes } = require('node:crypto')
const { setTimeout: delay } = require('node:timers/promises')
const openwhisk = require('openwhisk')

function required (name) {
  const value = process.env[name]
  if (!value) {
    throw new Error(`${name} is not set: run this suite through "go test ./test/compat" ` +
      'or set WISP_APIHOST, WISP_AUTH, WISP_OTHER_AUTH and WISP_NAMESPACE by hand')
  }
  return value
}

const apihost = required('WISP_APIHOST') // e.g. http://127.0.0.1:3233
const auth = required('WISP_AUTH') // uuid:key of namespace WISP_NAMESPACE
const otherAuth = required('WISP_OTHER_AUTH') // uuid:key of namespace "other"
const namespace = required('WISP_NAMESPACE') // "compat"
const otherNamespace = process.env.WISP_OTHER_NAMESPACE || 'other'

// client returns an official openwhisk client for the given key. An http://
// apihost is kept as is: the client builds <apihost>/api/v1/<path>.
function client (apiKey = auth) {
  return openwhisk({ apihost, api_key: apiKey, ignore_certs: true })
}

// uniqueName gives each test its own entity names, so that the suite also runs
// against a server that already holds entities from an earlier run.
function uniqueName (prefix) {
  return `${prefix}-${randomBytes(4).toString('hex')}`
}

// rejectsWith asserts that promise rejects with an OpenWhisk client error of
// the given HTTP status and returns that error (err.error is the body).
async function rejectsWith (promise, statusCode) {
  let err
  try {
    await promise
  } catch (e) {
    err = e
  }
  assert.ok(err, `expected HTTP ${statusCode}, but the call succeeded`)
  assert.equal(err.statusCode, statusCode,
    `expected HTTP ${statusCode}, got ${err.statusCode}: ${err.message}`)
  return err
}

// assertErrorBody checks the OpenWhisk error body: {"error": msg, "code": id}.
// wsk prints the server's message only when both fields are present.
function assertErrorBody (body) {
  assert.equal(typeof body, 'object', `error body is not JSON: ${body}`)
  assert.equal(typeof body.error, 'string', `error body has no "error" string: ${JSON.stringify(body)}`)
  assert.ok(body.error.length > 0, 'error message is empty')
  assert.ok('code' in body, `error body has no "code": ${JSON.stringify(body)}`)
}

// retryable says whether eventually should try again after err: the entity is
// not there yet (404) or a polled assertion does not hold yet. Anything else
// (401, 5xx, a bug in the test) fails at once.
function retryable (err) {
  return err.statusCode === 404 || err.code === 'ERR_ASSERTION'
}

// eventually calls fn until it resolves, for at most timeoutMs. Activation
// records may be stored after a blocking invoke returns and non-blocking ones
// finish later, so reads of them poll; the deadline bounds the wait.
async function eventually (fn, { timeoutMs = 30000, intervalMs = 100, retryIf = retryable } = {}) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      return await fn()
    } catch (err) {
      if (!retryIf(err)) {
        throw err
      }
      if (Date.now() + intervalMs > deadline) {
        err.message = `still failing after ${timeoutMs} ms: ${err.message}`
        throw err
      }
    }
    await delay(intervalMs)
  }
}

// raw sends a request with fetch, for the parts of the API the client does
// not expose (query flags, status codes, unauthenticated calls). path is
// relative to <apihost>/api/v1/ ("" is <apihost>/api/v1 itself); body is sent
// as JSON, rawBody as given; apiKey null sends no credentials. It returns
// {status, body, headers} with body parsed as JSON when possible.
async function raw (path, { method = 'GET', apiKey = auth, body, rawBody, headers = {} } = {}) {
  const h = { Accept: 'application/json', ...headers }
  if (apiKey !== null) {
    h.Authorization = 'Basic ' + Buffer.from(apiKey).toString('base64')
  }
  const payload = body === undefined ? rawBody : JSON.stringify(body)
  if (payload !== undefined) {
    h['Content-Type'] = 'application/json'
  }
  const url = path === '' ? `${apihost}/api/v1` : `${apihost}/api/v1/${path}`
  const res = await fetch(url, { method, headers: h, body: payload })
  const text = await res.text()
  let parsed = text
  try {
    parsed = JSON.parse(text)
  } catch {}
  return { status: res.status, body: parsed, headers: res.headers }
}

// Action code used across files.
const code = {
  // echo returns its parameters unchanged.
  echo: 'function main(params) { return params }',
  // logger writes one line to stdout and one to stderr.
  logger: [
    'function main(params) {',
    '  console.log("hello from " + (params.who || "compat"))',
    '  console.error("warning from " + (params.who || "compat"))',
    '  return { logged: true }',
    '}'
  ].join('\n'),
  // applicationError returns an error object: OpenWhisk "application error".
  applicationError: 'function main() { return { error: "nope" } }',
  // throws fails inside the action: OpenWhisk "action developer error".
  throws: 'function main() { throw new Error("boom") }'
}

module.exports = {
  apihost,
  auth,
  otherAuth,
  namespace,
  otherNamespace,
  client,
  uniqueName,
  rejectsWith,
  assertErrorBody,
  eventually,
  raw,
  code
}
