// Package images builds Wisp's runtime images locally, from scratch: no
// registry is needed. An image holds the host's interpreter with the shared
// libraries it links (found with ldd), or for native actions the host's C
// library, and the wisp binary itself, whose hidden `wisp action-proxy`
// command is the container's entry point on port 8080. Images carry a label
// with a hash of their content, so a changed binary or interpreter rebuilds
// them. Main function: Ensure.
package images
