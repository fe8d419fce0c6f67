package proxy

import (
	"fmt"
	"os"
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
