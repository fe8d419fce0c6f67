package proxy

import (
	"fmt"
	"os"
	"runtime"
	"sync"
)

// TakeSecret returns the secret the invoker handed this process in
// SecretEnv ("" when none), removes it from the environment and, when
// there was one, hides the process from its children (Linux: non-dumpable)
// so that action code, which runs as the same user, can read it neither
// from /proc nor from the proxy's memory. Call it at start, before any
// action runs; the actions' environment is built from Config.Env, never
// from this process's.
func TakeSecret() (string, error) {
	secret := os.Getenv(SecretEnv)
	if err := os.Unsetenv(SecretEnv); err != nil {
		return "", fmt.Errorf("remove %s from the environment: %w", SecretEnv, err)
	}
	if secret == "" {
		return "", nil
	}
	if err := hideProcess(); err != nil {
		return "", fmt.Errorf("hide the proxy's memory from its actions: %w", err)
	}
	return secret, nil
}

// ReserveThreads makes the Go runtime start n more OS threads now and keep
// them idle for later. The runtime aborts when it cannot make a thread it
// needs, and threads count against a container's pids limit: without spare
// ones, an action's fork bomb that fills the limit would kill the proxy
// (and with it the activation's answer) instead of being cleaned up.
func ReserveThreads(n int) {
	var ready, done sync.WaitGroup
	release := make(chan struct{})
	ready.Add(n)
	done.Add(n)
	for range n {
		go func() {
			defer done.Done()
			runtime.LockOSThread() // this goroutine holds its thread until release
			ready.Done()
			<-release
			runtime.UnlockOSThread() // the thread goes idle, kept by the runtime
		}()
	}
	ready.Wait()
	close(release)
	done.Wait()
}
