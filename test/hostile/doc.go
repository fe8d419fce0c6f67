// Package hostile holds no code: its test starts a whole Wisp (embedded
// store, process backend) and sends it the requests a hostile tenant
// would: truncated and oversized bodies, deep nesting, names that try to
// leave their namespace, zip bombs, composition loops, negative paging.
// Each must answer its OpenWhisk status with an {"error","code"} body, and
// the server must stay up with the data created before intact.
package hostile
