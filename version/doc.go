// Package version tells which build of Wisp is running: the release
// version set at link time by `make build` and the image (-ldflags -X),
// else the module version, and the VCS commit Go stamped into the binary.
// It does not log or serve anything; GET /api/v1 and `wisp version` read
// Get.
package version
