// Wisp Node.js launcher: loads one action and runs its activations.
//
// Started by actions/proxy as `node launcher.js`, possibly before the
// action's code exists (a prestarted launcher): it loads its own modules and
// waits for the init line on stdin, {"entry", "main", "dir", "env"}. It then
// sets env in process.env, changes to dir (the code directory) and loads
// <entry>, a file (inline code, evaluated like OpenWhisk's nodejs runtime
// does) or a directory (an unpacked zip, loaded with require). Protocol:
//   fd 3   {"ready":true} once loaded (before the init line is read), then
//          one init ack line {"ok":true} | {"error":"..."}, then one line per
//          activation: "<id> <kind> <json>" where kind is
//          r (result JSON), n (result is not an object), e (main threw; json
//          is the error string) or a (argument is not an object; json is its
//          type). Activations run concurrently and answer in completion order.
//   stdin  the init line, then one line per activation: "<id> <run request JSON>".
// Before every r/n/e line and before an init error the sentinel is written to
// stdout and stderr. The action's console output never goes to fd 3.
'use strict';

const fs = require('fs');
const path = require('path');
const vm = require('vm');
const { createRequire } = require('module');
const { pathToFileURL } = require('url');

const SENTINEL = 'XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX\n';
const RESULT_FD = 3;
let entry, mainName; // set by the init line

function emit(line) {
  const buf = Buffer.from(line + '\n');
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(RESULT_FD, buf, off);
    } catch (e) {
      if (e.code !== 'EAGAIN') throw e;
    }
  }
}

function markers() {
  process.stdout.write(SENTINEL);
  process.stderr.write(SENTINEL);
}

// splitMain follows OpenWhisk: "fn" → [undefined, "fn"], "mod.fn.x" → ["mod", "fn.x"].
function splitMain(main) {
  const m = /^([^.]+)$|^([^.]+)\.(.+)$/.exec(main);
  return m ? [m[2], m[3] || m[1]] : undefined;
}

function lookup(obj, dotted) {
  return dotted.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj);
}

function assertFunction(handler) {
  if (typeof handler !== 'function') {
    throw "Action entrypoint '" + mainName + "' is not a function.";
  }
  return handler;
}

async function requireOrImport(target) {
  const req = createRequire(path.join(entry, 'index.js'));
  try {
    return req(target);
  } catch (e) {
    if (e.code !== 'ERR_REQUIRE_ESM') throw e;
    return import(pathToFileURL(req.resolve(target)).href);
  }
}

async function loadModule() {
  const parts = splitMain(mainName);
  if (parts === undefined) throw 'Name of main function is not valid.';
  const [index, fn] = parts;
  if (index === undefined && !fs.existsSync('package.json') && !fs.existsSync('index.js')) {
    throw 'Zipped actions must contain either package.json or index.js at the root.';
  }
  const mod = await requireOrImport(index !== undefined ? path.join(entry, index) : entry);
  let handler = lookup(mod, fn);
  if (handler === undefined && mod && mod.default) handler = lookup(mod.default, fn);
  return assertFunction(handler);
}

// loadInline evaluates the code in a function scope, as OpenWhisk does, so a
// top-level `function main` needs no export; `exports.main` works too.
function loadInline() {
  if (!/^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/.test(mainName)) {
    throw 'Name of main function is not valid.';
  }
  const code = fs.readFileSync(entry, 'utf8');
  const wrapper = '(function (exports, require, module, __filename, __dirname) {' + code +
    '\ntry { return ' + mainName + '; } catch (e) {' +
    ' if (e.name === "ReferenceError") { return module.exports.' + mainName + ' || exports.' + mainName + '; }' +
    ' throw e; }\n})';
  const fn = vm.runInThisContext(wrapper, { filename: entry });
  const mod = { exports: {} };
  return assertFunction(fn.call(mod.exports, mod.exports, createRequire(entry), mod, entry, path.dirname(entry)));
}

// serializeError mirrors the serialize-error package OpenWhisk uses for rejections.
function serializeError(v) {
  if (typeof v === 'function') return '[Function: ' + (v.name || 'anonymous') + ']';
  if (typeof v !== 'object' || v === null) return v;
  const out = {};
  for (const k of Object.keys(v)) out[k] = v[k];
  for (const k of ['name', 'message', 'stack']) {
    if (typeof v[k] === 'string') out[k] = v[k];
  }
  return out;
}

let handler;

// The __OW_* variables of the init environment; every activation starts
// from them, so that one never sees what an earlier one was given (its
// API key above all). Activations running at once share process.env.
const baseEnv = {};
let running = 0;

function resetEnv() {
  for (const k of Object.keys(process.env)) {
    if (k.startsWith('__OW_') && !(k in baseEnv)) delete process.env[k];
  }
  Object.assign(process.env, baseEnv);
}

// settle ends one activation and resets the environment once none runs.
function settle() {
  if (--running === 0) resetEnv();
}

function finish(id, result) {
  settle();
  if (typeof result !== 'object') {
    console.error('Result must be of type object but has type "' + typeof result + '":', result);
    markers();
    emit(id + ' n {}');
    return;
  }
  let json;
  try {
    json = JSON.stringify(result);
  } catch (e) {
    console.error(e);
    markers();
    emit(id + ' e ' + JSON.stringify(String(e)));
    return;
  }
  markers();
  emit(id + ' r ' + (json === undefined ? '{}' : json));
}

function activate(line) {
  const sp = line.indexOf(' ');
  const id = line.slice(0, sp);
  let msg;
  try {
    msg = JSON.parse(line.slice(sp + 1));
  } catch (e) {
    emit(id + ' a ' + JSON.stringify('invalid JSON'));
    return;
  }
  if (msg === null || typeof msg !== 'object') msg = {};
  let value = msg.value;
  if (value === null || value === undefined) {
    value = {};
  } else if (typeof value !== 'object') {
    emit(id + ' a ' + JSON.stringify(typeof value));
    return;
  }
  if (running++ === 0) resetEnv();
  for (const k of Object.keys(msg)) {
    if (k !== 'value' && typeof msg[k] === 'string') process.env['__OW_' + k.toUpperCase()] = msg[k];
  }
  let result;
  try {
    result = handler(value);
  } catch (err) {
    settle();
    console.error(err);
    markers();
    emit(id + ' e ' + JSON.stringify(String(err)));
    return;
  }
  Promise.resolve(result).then(
    (r) => finish(id, r === undefined ? {} : r),
    (err) => finish(id, { error: err ? serializeError(err) : {} }),
  );
}

// serve reads stdin: the init line first, then activations, which wait
// (queued) until the action is loaded.
function serve() {
  let pending = '';
  let queued = [];
  let started = false;
  const onLine = (line) => {
    if (!started) {
      started = true;
      init(line).then(() => {
        const q = queued;
        queued = null;
        q.forEach(activate);
      }, () => process.stdin.pause());
    } else if (queued !== null) {
      queued.push(line);
    } else {
      activate(line);
    }
  };
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk) => {
    let from = pending.length;
    pending += chunk;
    let nl;
    while ((nl = pending.indexOf('\n', from)) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      from = 0;
      if (line.length > 0) onLine(line);
    }
  });
  process.stdin.on('end', () => process.exit(0));
}

// init loads the action the init line names and acknowledges on fd 3; it
// rejects after reporting a failure there.
async function init(line) {
  try {
    const msg = JSON.parse(line);
    entry = msg.entry;
    mainName = msg.main;
    for (const [k, v] of Object.entries(msg.env || {})) process.env[k] = v;
    process.chdir(msg.dir);
    handler = fs.statSync(entry).isDirectory() ? await loadModule() : loadInline();
  } catch (err) {
    console.error('Error during initialization:', err);
    markers();
    emit(JSON.stringify({ error: err && err.stack ? String(err.stack) : String(err) }));
    throw err;
  }
  for (const k of Object.keys(process.env)) {
    if (k.startsWith('__OW_')) baseEnv[k] = process.env[k];
  }
  emit('{"ok":true}');
}

emit('{"ready":true}');
serve();
