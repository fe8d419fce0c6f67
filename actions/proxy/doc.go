// Package proxy is Wisp's implementation of the OpenWhisk action-container
// protocol: a Server answers POST /init and POST /run for one action and runs
// its code in a Node.js or Python launcher child process (launcher.js,
// launcher.py), talking to it over stdin and a result pipe on fd 3, or runs
// the action's own executable, which speaks OpenWhisk's ActionLoop protocol
// (the native runtime, native.go). Status codes and error texts follow the
// OpenWhisk nodejs and python runtimes. The package does not enforce
// deadlines, pause processes or collect logs into activations: the invoker
// does, using Pid, the Stdout and Stderr writers and the Sentinel lines.
// Server is the main type.
package proxy
