// Package actions knows Wisp's action runtimes: the kinds table (nodejs:20,
// python:3, native, blackbox, sequence) with its defaults and aliases, used
// by the API to resolve "nodejs:default" and to list runtimes. The action
// proxy that runs inside each container lives in actions/proxy.
package actions
