// Package cluster holds no Go code: it is the folder of Wisp's cluster
// deployment files (the FROM-scratch image's Dockerfile and image.sh, the
// compose file compose.yaml, the Kubernetes manifests in k8s/ and the
// CouchDB settings couchdb.ini) and of the tests that check them: every
// wisp command they hold uses flags `wisp serve` defines, with values that
// fit the node's role, and the image builds and starts. It deploys
// nothing itself.
package cluster
