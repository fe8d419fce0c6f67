# Wisp Python launcher: loads one action and runs its activations in turn.
#
# Started by actions/proxy as `python3 launcher.py`, possibly before the
# action's code exists (a prestarted launcher): it waits for the init line on
# stdin, {"entry", "main", "dir", "env"}, sets env in os.environ, changes to
# dir (the code directory) and loads <entry>, the action's __main__.py.
# Protocol:
#   fd 3   {"ready":true} once loaded (before the init line is read), then
#          one init ack line {"ok":true} | {"error":"...","compile":bool},
#          then one line per activation: "<id> <kind> <json>" where kind is
#          r (result JSON) or n (result is not a dict, list or None).
#   stdin  the init line, then one line per activation: "<id> <run request JSON>".
# Before every r/n line and before an init error the sentinel is written to
# stdout and stderr. The action's own stdin is /dev/null; its print output
# goes to stdout and never to fd 3.
import glob
import importlib.util
import json
import os
import sys
import traceback

SENTINEL = "XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX\n"


class MissingEntry(Exception):
    """The code directory has no __main__.py."""


def markers():
    sys.stdout.flush()
    sys.stdout.write(SENTINEL)
    sys.stdout.flush()
    sys.stderr.flush()
    sys.stderr.write(SENTINEL)
    sys.stderr.flush()


def emit(out, line):
    out.write(line + b"\n")
    out.flush()


def load(entry, main_name):
    code_dir = os.path.dirname(os.path.abspath(entry))
    sys.path.insert(0, code_dir)
    for site in glob.glob(os.path.join(code_dir, "virtualenv", "lib", "python*", "site-packages")):
        sys.path.insert(1, site)
    if not os.path.isfile(entry):
        raise MissingEntry("Zip file does not include __main__.py")
    spec = importlib.util.spec_from_file_location("main__", entry)
    module = importlib.util.module_from_spec(spec)
    sys.modules["main__"] = module
    spec.loader.exec_module(module)
    fn = module
    for part in main_name.split("."):
        fn = getattr(fn, part)
    if not callable(fn):
        raise TypeError("Action entrypoint '%s' is not a function." % main_name)
    return fn


def encode(res):
    if res is not None and not isinstance(res, (dict, list)):
        print('Result must be of type dict but has type "%s": %r' % (type(res).__name__, res), file=sys.stderr)
        return b"n {}"
    try:
        return b"r " + json.dumps(res, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError) as ex:
        print("Result is not serializable as JSON: %s" % ex, file=sys.stderr)
        return b"n {}"


def reset_env(env, base):
    """Drops the __OW_* variables an activation set, back to the init ones."""
    for key in [k for k in env if k.startswith("__OW_") and k not in base]:
        del env[key]
    env.update(base)


def serve(inp, out, fn):
    env = os.environ
    # Every activation starts from the init environment's __OW_* variables:
    # none sees what an earlier one was given (its API key above all).
    base = {k: v for k, v in env.items() if k.startswith("__OW_")}
    while True:
        line = inp.readline()
        if not line:
            return
        sp = line.index(b" ")
        ident = line[:sp]
        args = json.loads(line[sp + 1:])
        payload = {}
        for key, val in args.items():
            if key == "value":
                payload = {} if val is None else val
            else:
                env["__OW_" + key.upper()] = val if isinstance(val, str) else json.dumps(val)
        try:
            res = fn(payload)
        except Exception as ex:
            print(traceback.format_exc(), file=sys.stderr)
            res = {"error": str(ex)}
        finally:
            reset_env(env, base)
        reply = encode(res)
        markers()
        emit(out, ident + b" " + reply)


def main():
    out = os.fdopen(3, "wb")
    inp = os.fdopen(os.dup(0), "rb")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    emit(out, b'{"ready":true}')
    line = inp.readline()
    if not line:
        return
    init = json.loads(line)
    entry, main_name = init["entry"], init["main"]
    os.environ.update(init.get("env") or {})
    os.chdir(init["dir"])
    try:
        fn = load(entry, main_name)
    except SyntaxError as ex:
        traceback.print_exc(limit=0)
        markers()
        emit(out, json.dumps({"error": str(ex), "compile": True}).encode("utf-8"))
        return
    except MissingEntry as ex:
        print(ex, file=sys.stderr)
        markers()
        emit(out, json.dumps({"error": str(ex), "compile": True}).encode("utf-8"))
        return
    except Exception as ex:
        traceback.print_exc()
        markers()
        emit(out, json.dumps({"error": str(ex), "compile": False}).encode("utf-8"))
        return
    emit(out, b'{"ok":true}')
    serve(inp, out, fn)


if __name__ == "__main__":
    main()
