// Package process is the invoker backend that runs each action "container"
// as local processes: Wisp's action proxy served in-process (on a loopback
// port, or a root-only unix socket when isolated), with the language
// launcher as a child process in its own process group, frozen with
// SIGSTOP and thawed with SIGCONT.
//
// When Wisp runs as root, each container runs as an unprivileged user of
// its own under resource limits (see Isolation); otherwise actions run as
// Wisp's user. Either way there is no network, kernel or filesystem
// isolation: it is for development and for machines without a container
// engine. Main type: Backend.
package process
