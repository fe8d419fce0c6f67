#!/usr/bin/env sh
# deploy/cluster/secrets.sh [DIR]: makes the cluster's credentials, random,
# once, for compose.yaml (DIR/secrets/) and the Kubernetes manifests
# (DIR/k8s/secrets/, which kustomization.yaml's secretGenerator reads).
# DIR defaults to this script's folder. Both folders are git-ignored; the
# files are the only place the passwords are written down.
#
#   couchdb.env       COUCHDB_USER and COUCHDB_PASSWORD: CouchDB's admin
#   store-credentials the same, as USER:PASSWORD (wisp --store-credentials-file)
#   nats-auth.conf    nats-server's authorization block: user wisp, password
#   bus-credentials   the same, as USER:PASSWORD (wisp --bus-credentials-file)
#
# It refuses to replace existing files: CouchDB keeps the admin password
# it first started with. To rotate, change the passwords on the servers
# first, then remove the folders and run this again (or edit the files).
set -eu

dir="${1:-$(cd "$(dirname "$0")" && pwd)}"
couch_user=admin
bus_user=wisp

# random prints 32 hex digits from the kernel's generator (no URL-special
# characters, though the credentials files would not need that).
random() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }

for out in "$dir/secrets" "$dir/k8s/secrets"; do
	if [ -e "$out" ]; then
		echo "secrets.sh: $out exists; remove it first to make new credentials" >&2
		exit 1
	fi
done

couch_password="$(random)"
bus_password="$(random)"
for out in "$dir/secrets" "$dir/k8s/secrets"; do
	# The folder keeps other users of this host out; the files are
	# world-readable so that compose's bind-mounted secrets can be read by
	# the unprivileged user (65534) of the Wisp containers.
	mkdir -m 0700 -p "$out"
	umask 022
	printf 'COUCHDB_USER=%s\nCOUCHDB_PASSWORD=%s\n' "$couch_user" "$couch_password" >"$out/couchdb.env"
	printf '%s:%s\n' "$couch_user" "$couch_password" >"$out/store-credentials"
	printf 'authorization {\n  users = [ {user: %s, password: "%s"} ]\n}\n' "$bus_user" "$bus_password" >"$out/nats-auth.conf"
	printf '%s:%s\n' "$bus_user" "$bus_password" >"$out/bus-credentials"
done
echo "secrets.sh: wrote $dir/secrets and $dir/k8s/secrets" >&2
