#!/usr/bin/env bash
# scripts/test.sh: the one test command (`make test`, which .ci/run calls).
#
# 1. Installs what the tests need, idempotently: nothing is fetched when it is
#    already there, and `apt-get update` runs only when a package is missing.
# 2. Starts the services the integration tests use (one function each; they
#    are stopped again when this script exits).
# 3. Runs `go vet ./...` and `go test -count=1 ./...` and exits with their status
#    (go test's when it failed, else go vet's).
# 4. With WISP_BENCH_SHORT=1 (set by .ci/run) and the whole suite, runs
#    `make bench BENCHTIME=1x` on the same services once the tests pass.
#
# Arguments, if any, replace ./... for go test: scripts/test.sh ./test/compat/ -run Client -v
#
# WISP_REQUIRE_SERVICES (read by internal/testenv): a helper whose service is
# missing fails the test when it is 1 and skips it otherwise.
#   - Under CI (CI set) it is always 1: CI never passes by skipping.
#   - Otherwise it is 1 unless the caller set it. This script installs and starts
#     every service, and developers have the same kind of machine as CI, so a
#     service still missing here is a real failure that CI would hit too.
#     `WISP_REQUIRE_SERVICES=0 make test` skips instead, for a machine that
#     cannot run a service (dockerd without privileges, say).
#   - Plain `go test ./...` leaves it unset, so missing services skip.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

COMPAT_DIR="test/compat"
GO_TEST_TIMEOUT="${WISP_GO_TEST_TIMEOUT:-30m}"

log() { printf 'test.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }

# ---------------------------------------------------------------- installing

as_root() {
	if [[ $(id -u) -eq 0 ]]; then
		"$@"
	elif have sudo; then
		sudo -n "$@"
	else
		die "need root (or sudo) to run: $*"
	fi
}

APT_UPDATED=0
# apt_install installs Debian packages, running `apt-get update` once first.
apt_install() {
	log "apt-get install $*"
	if [[ $APT_UPDATED -eq 0 ]]; then
		as_root apt-get update -qq </dev/null
		APT_UPDATED=1
	fi
	as_root env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends "$@" </dev/null
}

ensure_go() {
	# Go comes with the machine (/usr/local/go); Debian's is too old for go.mod.
	if ! have go && [[ -x /usr/local/go/bin/go ]]; then
		export PATH="/usr/local/go/bin:$PATH"
	fi
	have go || die "go not found: install Go (see go.mod for the version)"
}

ensure_python() {
	have python3 || apt_install python3
}

ensure_node() {
	if ! have node || ! have npm; then
		apt_install nodejs npm
	fi
	local major
	major="$(node --version | sed -E 's/^v([0-9]+).*/\1/')"
	[[ $major -ge 18 ]] || die "node $(node --version) is too old: the compat suite needs node 18 or later"
}

# ensure_compat_npm installs test/compat's npm packages (the official openwhisk
# client, pinned in package-lock.json) with `npm ci` when node_modules is
# missing or was installed from another package.json, lock file or node.
ensure_compat_npm() {
	local stamp="$COMPAT_DIR/node_modules/.wisp-installed" want
	want="$({ cat "$COMPAT_DIR/package.json" "$COMPAT_DIR/package-lock.json"; node --version; } | sha256sum | cut -d' ' -f1)"
	if [[ -f $stamp && "$(cat "$stamp")" == "$want" ]]; then
		return
	fi
	log "npm ci in $COMPAT_DIR"
	(cd "$COMPAT_DIR" && npm ci --no-audit --no-fund --loglevel=error </dev/null)
	printf '%s\n' "$want" >"$stamp"
}

# ------------------------------------------------------------------ services
#
# Each service gets one start_* function, filled in by the issue that first
# needs it. The shape: install the package if missing (apt_install, or npm for
# pouchdb-server), start it in the background on loopback only, wait until it
# answers with a bounded poll (never a bare sleep), append its pid to
# STARTED_PIDS, and export the address its internal/testenv helper reads.

STARTED_PIDS=()
STARTED_DOCKERD=0
RESTARTED_DOCKERD=0

stop_services() {
	local pid
	if [[ $RESTARTED_DOCKERD -eq 1 ]]; then
		# The dockerd restart test replaced the dockerd this script started
		# with one of its own, which is not in STARTED_PIDS. Otherwise only
		# our own pid is stopped: a second test.sh that lost the race to
		# start an engine must not stop the one another run is using.
		as_root pkill -x dockerd 2>/dev/null || true
	fi
	for pid in "${STARTED_PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${STARTED_PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	if [[ -n $SERVICE_TMP ]]; then
		rm -rf "$SERVICE_TMP"
	fi
}
trap stop_services EXIT

# start_dockerd installs Debian's docker.io when dockerd is missing and
# starts dockerd unless an engine already answers (there is no systemd here);
# testenv.Docker(t) then finds it on the default socket.
start_dockerd() {
	if have docker && docker version >/dev/null 2>&1; then
		return
	fi
	have dockerd || apt_install docker.io
	local logfile="${TMPDIR:-/tmp}/wisp-dockerd.log"
	log "starting dockerd (log: $logfile)"
	# Started directly (not through a function) so that $! is dockerd's own
	# pid, or sudo's, which passes the stop signal on.
	if [[ $(id -u) -eq 0 ]]; then
		dockerd >"$logfile" 2>&1 &
	else
		sudo -n dockerd >"$logfile" 2>&1 &
	fi
	STARTED_PIDS+=("$!")
	STARTED_DOCKERD=1
	local i
	for ((i = 0; i < 600; i++)); do # a bounded poll: at most 60 s
		if docker version >/dev/null 2>&1; then
			return
		fi
		sleep 0.1
	done
	tail -n 20 "$logfile" >&2 || true
	die "dockerd did not answer within 60 s"
}

SERVICES_DIR="test/services"
SERVICE_TMP=""

# free_port prints a TCP port nothing listens on now.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# wait_port waits (bounded: at most 30 s) until 127.0.0.1:$1 accepts a
# connection, failing with the tail of log $3 when it does not.
wait_port() {
	local port="$1" name="$2" logfile="$3" i
	for ((i = 0; i < 300; i++)); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			return
		fi
		sleep 0.1
	done
	tail -n 20 "$logfile" >&2 || true
	die "$name did not listen on 127.0.0.1:$port within 30 s"
}

service_tmp() {
	if [[ -z $SERVICE_TMP ]]; then
		SERVICE_TMP="$(mktemp -d "${TMPDIR:-/tmp}/wisp-services.XXXXXX")"
	fi
}

# start_mosquitto: Debian's mosquitto on a free loopback port, anonymous
# clients allowed, in-memory; testenv.Mosquitto(t) reads WISP_TEST_MQTT.
start_mosquitto() {
	have mosquitto || [[ -x /usr/sbin/mosquitto ]] || apt_install mosquitto
	local bin port
	bin="$(command -v mosquitto || echo /usr/sbin/mosquitto)"
	service_tmp
	port="$(free_port)"
	printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$port" >"$SERVICE_TMP/mosquitto.conf"
	log "starting mosquitto on 127.0.0.1:$port"
	"$bin" -c "$SERVICE_TMP/mosquitto.conf" >"$SERVICE_TMP/mosquitto.log" 2>&1 &
	STARTED_PIDS+=("$!")
	wait_port "$port" mosquitto "$SERVICE_TMP/mosquitto.log"
	export WISP_TEST_MQTT="tcp://127.0.0.1:$port"
}

# start_mosquitto_auth: a second Mosquitto on a free loopback port that
# refuses anonymous clients and knows one account, from a password_file made
# with mosquitto_passwd; testenv.MosquittoAuth(t) reads WISP_TEST_MQTT_AUTH
# (tcp://USER:PASSWORD@127.0.0.1:PORT). `user` keeps mosquitto from switching
# to an account that cannot read the password file in $SERVICE_TMP.
start_mosquitto_auth() {
	local bin port pass
	bin="$(command -v mosquitto || echo /usr/sbin/mosquitto)"
	have mosquitto_passwd || apt_install mosquitto
	service_tmp
	port="$(free_port)"
	pass="$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
	mosquitto_passwd -b -c "$SERVICE_TMP/mosquitto-auth.passwd" wisp-test "$pass"
	printf 'listener %s 127.0.0.1\nallow_anonymous false\npassword_file %s\npersistence false\nuser %s\n' \
		"$port" "$SERVICE_TMP/mosquitto-auth.passwd" "$(id -un)" >"$SERVICE_TMP/mosquitto-auth.conf"
	log "starting mosquitto with a password file on 127.0.0.1:$port"
	"$bin" -c "$SERVICE_TMP/mosquitto-auth.conf" >"$SERVICE_TMP/mosquitto-auth.log" 2>&1 &
	STARTED_PIDS+=("$!")
	wait_port "$port" mosquitto "$SERVICE_TMP/mosquitto-auth.log"
	export WISP_TEST_MQTT_AUTH="tcp://wisp-test:$pass@127.0.0.1:$port"
}

# start_nats: Debian's nats-server with JetStream on a free loopback port;
# testenv.NATS(t) reads WISP_TEST_NATS.
start_nats() {
	have nats-server || [[ -x /usr/sbin/nats-server ]] || apt_install nats-server
	local bin port
	bin="$(command -v nats-server || echo /usr/sbin/nats-server)"
	service_tmp
	port="$(free_port)"
	log "starting nats-server (JetStream) on 127.0.0.1:$port"
	"$bin" -js -a 127.0.0.1 -p "$port" -sd "$SERVICE_TMP/nats" >"$SERVICE_TMP/nats.log" 2>&1 &
	STARTED_PIDS+=("$!")
	wait_port "$port" nats-server "$SERVICE_TMP/nats.log"
	export WISP_TEST_NATS="nats://127.0.0.1:$port"
}

# start_pouchdb: npm pouchdb-server (pinned in test/services), in memory, on
# a free loopback port; testenv.CouchDB(t) reads WISP_TEST_COUCHDB.
start_pouchdb() {
	local stamp="$SERVICES_DIR/node_modules/.wisp-installed" want port
	want="$({ cat "$SERVICES_DIR/package.json" "$SERVICES_DIR/package-lock.json"; node --version; } | sha256sum | cut -d' ' -f1)"
	if [[ ! -f $stamp || "$(cat "$stamp")" != "$want" ]]; then
		log "npm ci in $SERVICES_DIR"
		(cd "$SERVICES_DIR" && npm ci --no-audit --no-fund --loglevel=error </dev/null)
		printf '%s\n' "$want" >"$stamp"
	fi
	service_tmp
	port="$(free_port)"
	log "starting pouchdb-server on 127.0.0.1:$port"
	# It writes config.json and log.txt into its working folder.
	(cd "$SERVICE_TMP" && exec "$ROOT/$SERVICES_DIR/node_modules/.bin/pouchdb-server" --in-memory --host 127.0.0.1 --port "$port" >pouchdb.log 2>&1) &
	STARTED_PIDS+=("$!")
	wait_port "$port" pouchdb-server "$SERVICE_TMP/pouchdb.log"
	export WISP_TEST_COUCHDB="http://127.0.0.1:$port"
}

# ensure_chromium installs Debian's chromium for the console's browser test
# (chromedp drives it headless); testenv.Chromium(t) reads WISP_TEST_CHROMIUM.
ensure_chromium() {
	have chromium || apt_install chromium
	WISP_TEST_CHROMIUM="$(command -v chromium)"
	export WISP_TEST_CHROMIUM
}

# ensure_languages installs the toolchains the java, ruby and php runtime
# images are built from (actions/images.ForKinds): a JDK with javac, Gson,
# Ruby and PHP; only the missing ones, in one apt-get install. The go image
# copies /usr/local/go. Swift is left out: Debian 12 has no swiftlang.
ensure_languages() {
	local missing=()
	[[ -x /usr/bin/javac ]] || missing+=(openjdk-17-jdk-headless)
	[[ -f /usr/share/java/gson.jar ]] || missing+=(libgoogle-gson-java)
	[[ -x /usr/bin/ruby ]] || missing+=(ruby)
	[[ -x /usr/bin/php ]] || missing+=(php-cli)
	if [[ ${#missing[@]} -gt 0 ]]; then
		apt_install "${missing[@]}"
	fi
}

# ---------------------------------------------------------------------- main

main() {
	ensure_go
	ensure_python
	ensure_node
	ensure_compat_npm
	ensure_chromium
	ensure_languages

	start_dockerd
	start_mosquitto
	start_mosquitto_auth
	start_nats
	start_pouchdb

	if [[ -n "${CI:-}" ]]; then
		export WISP_REQUIRE_SERVICES=1
	else
		export WISP_REQUIRE_SERVICES="${WISP_REQUIRE_SERVICES:-1}"
	fi
	log "WISP_REQUIRE_SERVICES=$WISP_REQUIRE_SERVICES"

	local args=("$@")
	if [[ ${#args[@]} -eq 0 ]]; then
		args=(./...)
	fi

	local vet_status=0 test_status=0
	log "go vet ./..."
	go vet ./... || vet_status=$?
	log "go test -count=1 -timeout $GO_TEST_TIMEOUT ${args[*]}"
	go test -count=1 -timeout "$GO_TEST_TIMEOUT" "${args[@]}" || test_status=$?

	# The dockerd restart test stops the engine under every other Docker
	# test, so it runs alone, last, and only on a dockerd this script owns
	# (never on a developer's own engine).
	if [[ $test_status -eq 0 && ${#args[@]} -eq 1 && ${args[0]} == ./... ]]; then
		if [[ $STARTED_DOCKERD -eq 1 ]]; then
			log "go test -run TestDockerdRestart ./server/ (restarts dockerd)"
			RESTARTED_DOCKERD=1
			WISP_TEST_DOCKERD_RESTART=1 go test -count=1 -timeout 10m -run '^TestDockerdRestart$' ./server/ || test_status=$?
		elif [[ -n "${CI:-}" ]]; then
			log "CI: the dockerd restart test needs the dockerd this script starts, but one was already running"
			test_status=1
		else
			log "skipping the dockerd restart test: dockerd was not started by this script"
		fi
	fi

	if [[ $test_status -ne 0 ]]; then
		log "go test failed (exit $test_status)"
		return "$test_status"
	fi
	# WISP_BENCH_SHORT=1 (set by .ci/run): every benchmark once, and the
	# harness in its short form, on the services started above.
	if [[ ${WISP_BENCH_SHORT:-0} == 1 && ${#args[@]} -eq 1 && ${args[0]} == ./... ]]; then
		log "make bench BENCHTIME=1x"
		make bench BENCHTIME=1x || { log "make bench failed"; return 1; }
	fi
	if [[ $vet_status -ne 0 ]]; then
		log "go vet failed (exit $vet_status)"
		return "$vet_status"
	fi
}

main "$@"
