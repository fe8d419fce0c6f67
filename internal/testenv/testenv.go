package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// RequireServicesEnv names the environment variable that turns a missing
// service from a skip into a failure when set to "1".
const RequireServicesEnv = "WISP_REQUIRE_SERVICES"

// Require does nothing when ok is true. Otherwise it skips the test, or fails
// it when WISP_REQUIRE_SERVICES=1. what names the missing thing ("node",
// "docker engine"), why says what was found instead and how to get it.
func Require(t testing.TB, what string, ok bool, why string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv(RequireServicesEnv) == "1" {
		t.Fatalf("%s is required (%s=1) but unavailable: %s", what, RequireServicesEnv, why)
		return
	}
	t.Skipf("%s unavailable, skipping: %s (scripts/test.sh installs it; %s=1 turns this skip into a failure)",
		what, why, RequireServicesEnv)
}

// RepoRoot returns the repository root: the nearest directory at or above the
// working directory that holds go.mod. It fails the test when there is none.
func RepoRoot(t testing.TB) string {
	t.Helper()
	root, err := FindRepoRoot()
	if err != nil {
		t.Fatalf("find repository root: %v", err)
	}
	return root
}

// FindRepoRoot is RepoRoot for code without a testing.TB, such as TestMain.
func FindRepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod at or above the working directory")
		}
		dir = parent
	}
}

// minNodeMajor is the oldest Node.js that runs node:test and the openwhisk
// client (which declares engines node >= 18).
const minNodeMajor = 18

// Node returns the path of a node binary (major version 18 or later). It
// checks nothing else: tests that also load the npm openwhisk client use
// NodeClient.
func Node(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("node")
	Require(t, "node", err == nil, "no node on PATH; apt-get install nodejs")
	out, err := commandOutput(path, "--version")
	Require(t, "node", err == nil, fmt.Sprintf("%s --version: %v", path, err))
	major, ok := nodeMajor(out)
	Require(t, "node", ok && major >= minNodeMajor,
		fmt.Sprintf("%s is %q, need v%d or later", path, out, minNodeMajor))
	return path
}

// NodeClient is Node for the compatibility suite: it also checks that the
// suite's npm dependencies (the openwhisk client) are installed in
// test/compat/node_modules.
func NodeClient(t testing.TB) string {
	t.Helper()
	path := Node(t)
	client := filepath.Join(RepoRoot(t), "test", "compat", "node_modules", "openwhisk", "package.json")
	_, err := os.Stat(client)
	Require(t, "npm package openwhisk", err == nil,
		fmt.Sprintf("%s missing; run scripts/test.sh or `npm ci` in test/compat", client))
	return path
}

// nodeMajor parses the major version from `node --version` output ("v20.1.0").
func nodeMajor(version string) (int, bool) {
	v := strings.TrimPrefix(strings.TrimSpace(version), "v")
	major, _, _ := strings.Cut(v, ".")
	n, err := strconv.Atoi(major)
	return n, err == nil
}

// Python returns the path of a working python3.
func Python(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("python3")
	Require(t, "python3", err == nil, "no python3 on PATH; apt-get install python3")
	out, err := commandOutput(path, "--version")
	Require(t, "python3", err == nil && strings.HasPrefix(out, "Python 3"),
		fmt.Sprintf("%s --version: %q, %v", path, out, err))
	return path
}

// commandOutput runs a short probe command and returns its trimmed combined
// output. The probe is bounded so that a hung binary cannot stall a test.
func commandOutput(name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// Docker checks that a Docker engine answers on its socket (or DOCKER_HOST):
// scripts/test.sh installs Debian's docker.io and starts dockerd.
func Docker(t testing.TB) {
	t.Helper()
	path, err := exec.LookPath("docker")
	Require(t, "docker", err == nil, "no docker client on PATH; apt-get install docker.io")
	out, err := commandOutput(path, "version", "--format", "{{.Server.APIVersion}}")
	Require(t, "docker engine", err == nil && out != "", fmt.Sprintf("docker engine does not answer (%v); start dockerd", err))
}

// serviceURL returns the address scripts/test.sh exported in env for a
// service it started, or fails (WISP_REQUIRE_SERVICES=1) or skips.
func serviceURL(t testing.TB, what, env string) string {
	t.Helper()
	u := os.Getenv(env)
	Require(t, what, u != "", fmt.Sprintf("%s is not set: run the tests with scripts/test.sh (make test), which starts %s", env, what))
	return u
}

// Mosquitto returns the URL (tcp://127.0.0.1:PORT) of the Mosquitto broker
// scripts/test.sh started: anonymous clients allowed, nothing persisted.
func Mosquitto(t testing.TB) string { return serviceURL(t, "mosquitto", "WISP_TEST_MQTT") }

// MosquittoAuth returns the URL (tcp://USER:PASSWORD@127.0.0.1:PORT) of the
// second Mosquitto scripts/test.sh started: anonymous clients refused, one
// account in its password_file, whose user name and password the URL holds.
func MosquittoAuth(t testing.TB) string {
	return serviceURL(t, "mosquitto with a password file", "WISP_TEST_MQTT_AUTH")
}

// CouchDB returns the URL (http://127.0.0.1:PORT) of the CouchDB-protocol
// server (pouchdb-server, in memory, no credentials) scripts/test.sh
// started. Tests make databases of their own, with unique names.
func CouchDB(t testing.TB) string { return serviceURL(t, "pouchdb-server", "WISP_TEST_COUCHDB") }

// NATS returns the URL (nats://127.0.0.1:PORT) of the nats-server with
// JetStream scripts/test.sh started. Tests use streams of their own.
func NATS(t testing.TB) string { return serviceURL(t, "nats-server", "WISP_TEST_NATS") }

// Chromium returns the path of the Chromium browser that scripts/test.sh
// installs (Debian's chromium) and exports as WISP_TEST_CHROMIUM; without
// it, chromium on PATH. Browser tests drive it headless with chromedp.
func Chromium(t testing.TB) string {
	t.Helper()
	path := os.Getenv("WISP_TEST_CHROMIUM")
	if path == "" {
		found, err := exec.LookPath("chromium")
		Require(t, "chromium", err == nil, "WISP_TEST_CHROMIUM is not set and no chromium on PATH; apt-get install chromium")
		path = found
	}
	_, err := os.Stat(path)
	Require(t, "chromium", err == nil, fmt.Sprintf("%s: %v; apt-get install chromium", path, err))
	return path
}
