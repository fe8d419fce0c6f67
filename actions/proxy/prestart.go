package proxy

import (
	"encoding/json"
	"fmt"
	"strings"
)

// The Java runtime starts its JVM when the Server is made, so that a stem
// cell (a container started ahead of any action) holds a JVM past its
// start-up, waiting on stdin for the jar to load: /init then pays only for
// loading the action's classes. The init line carries the /init env, which
// the launcher writes into the JVM's environment, as OpenWhisk's Java
// runtime does (JarLoader.augmentEnv).

// javaFlags keep the JVM small in a container: one GC thread, no
// hsperfdata file in /tmp, the class-data archive when there is one, and
// System.getenv's map open to the launcher.
var javaFlags = []string{
	"-XX:+UseSerialGC", "-XX:-UsePerfData", "-Xshare:auto", "-XX:TieredStopAtLevel=1",
	"--add-opens", "java.base/java.util=ALL-UNNAMED",
}

// javaArgs is the JVM's command line.
func (s *Server) javaArgs() []string {
	args := append([]string{s.interp}, javaFlags...)
	return append(args, "-cp", s.cfg.ClassPath, "WispLauncher")
}

// prestartLauncher starts the launcher ahead of /init; a failure is only
// logged, and /init starts one afresh.
func (s *Server) prestartLauncher() {
	l, err := s.startProcess(s.javaArgs(), s.cfg.WorkDir, s.baseEnv())
	if err != nil {
		s.log.Warn("start the launcher ahead of /init", "err", err)
		return
	}
	s.pre = l
}

// baseEnv is the launcher's environment before /init.
func (s *Server) baseEnv() []string {
	return append(append([]string(nil), s.cfg.Env...), s.d.extraEnv...)
}

// initPrestarted hands the entry and main to the launcher started ahead,
// or to a new one when it is gone.
func (s *Server) initPrestarted(entry, main string, extra map[string]json.RawMessage) (*launcher, error) {
	s.mu.Lock()
	l := s.pre
	s.pre = nil
	s.mu.Unlock()
	if l != nil {
		select {
		case <-l.exited:
			l.stop()
			l = nil
		default:
		}
	}
	if l == nil {
		var err error
		if l, err = s.startProcess(s.javaArgs(), s.cfg.WorkDir, s.baseEnv()); err != nil {
			return nil, err
		}
	}
	if main == "main" { // parseInit's default; OpenWhisk's Java default class is Main
		main = "Main"
	}
	env := map[string]string{}
	for _, kv := range s.actionEnv(extra) {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	line, err := json.Marshal(struct {
		Entry string            `json:"entry"`
		Main  string            `json:"main"`
		Env   map[string]string `json:"env"`
	}{entry, main, env})
	if err != nil {
		l.stop()
		return nil, fmt.Errorf("encode the init line: %w", err)
	}
	l.writeMu.Lock()
	_, err = l.stdin.Write(append(line, '\n'))
	l.writeMu.Unlock()
	if err != nil {
		l.stop()
		return nil, fmt.Errorf("send the init to the launcher: %w", err)
	}
	return l, nil
}
