// Package process is the invoker backend that runs each action "container"
// as local processes: Wisp's action proxy served in-process on a loopback
// port, with the language launcher as a child process in its own process
// group, frozen with SIGSTOP and thawed with SIGCONT.
//
// It gives no isolation (no memory, pid or network limits): it is for
// development and for machines without a container engine. Main type:
// Backend.
package process
