// Package cluster holds no Go code: it is the folder of Wisp's cluster
// deployment files (the FROM-scratch image's Dockerfile and image.sh, the
// compose file compose.yaml, the Kubernetes manifests in k8s/, the
// CouchDB settings couchdb.ini and secrets.sh, which makes the cluster's
// credentials) and of the tests that check them: every wisp command they
// hold uses flags `wisp serve` defines, with values that fit the node's
// role, no credential is written in a manifest, and the image builds and
// starts. It deploys nothing itself.
package cluster
