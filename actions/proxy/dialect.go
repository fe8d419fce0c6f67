package proxy

import (
	"context"
	_ "embed"
	"fmt"
	"net/http"
)

//go:embed launcher.js
var launcherJS string

//go:embed launcher.py
var launcherPy string

//go:embed launcher.rb
var launcherRb string

//go:embed launcher.php
var launcherPHP string

// JavaLauncher is the source of the Java launcher class, WispLauncher
// (launcher.java). The proxy does not compile it: the java image is built
// with it compiled (actions/images), and Config.ClassPath names the folder.
//
//go:embed launcher.java
var JavaLauncher string

// Messages OpenWhisk's invoker uses when an action container dies
// (apache/openwhisk core Messages.abnormalInitialization / abnormalRun).
const (
	msgAbnormalInit = "The action did not initialize and exited unexpectedly."
	msgAbnormalRun  = "The action did not produce a valid response and exited unexpectedly."
	msgReinit       = "Cannot initialize the action more than once."
	msgMissingCode  = "Missing main/no code to execute."
)

// answer is an error status and message.
type answer struct {
	status int
	msg    string
}

// dialect holds what differs between runtimes: the launcher, where code goes
// and the status codes and texts of the OpenWhisk runtime being imitated —
// apache/openwhisk-runtime-nodejs (core/nodejsActionBase/src/service.js,
// runner.js) for Node.js, and the Go "actionloop" proxy of
// apache/openwhisk-runtime-go (openwhisk/initHandler.go, runHandler.go) that
// apache/openwhisk-runtime-python runs with OW_LOG_INIT_ERROR=1 for Python
// and, with the start error in the message, for native executables.
type dialect struct {
	interpreter  string // default interpreter binary; "" for none
	executable   bool   // the code is the executable itself (native.go)
	launcherName string
	launcher     string // launcher source
	sourceFile   string // file name for inline code
	zipEntry     string // entry inside an unpacked zip ("" = the directory)
	concurrent   bool   // the launcher runs activations concurrently
	extraEnv     []string
	// keepArchive writes zip code as the sourceFile unpacked (a jar).
	keepArchive bool
	// stdinInit: the launcher reads its entry, main, folder and env as a
	// JSON line on stdin (sendInit) rather than on its command line, so
	// that Config.Prestart can start it before /init (Node.js, Python).
	stdinInit bool
	// prestart starts the launcher when the Server is made, before /init,
	// and sends it the entry and main on its stdin (prestart.go).
	prestart bool
	// build turns the written code into the executable to start, compiling
	// sources when needed (golang.go); the runtime then runs it as a
	// native one. An error is a compile error.
	build func(ctx context.Context, s *Server, entry, main string, env []string) (string, error)

	notInitialized answer // /run before /init
	starting       answer // /run during /init
	initFailed     answer // /run after a failed /init
	reinitFailed   answer // /init after a failed /init

	// initError is the message of a 502 for an init failure the launcher
	// reported; compile tells a syntax or packaging error from a start error.
	initError func(detail string, compile bool) string
	// archiveError is the 502 message when the code cannot be unpacked.
	archiveError string
	// decodeError answers base64 that does not decode (binary code).
	decodeError func(err error) answer
	initDied    string // 502 message when the launcher exits during init
	notDict     string // 502 message when main's result is not an object
	thrown      func(detail string) string
	badArgument func(typ string) answer
}

// dialects is read-only after initialisation.
var dialects = map[string]*dialect{
	RuntimeNodeJS: {
		interpreter:    "node",
		launcherName:   "launcher.js",
		launcher:       launcherJS,
		stdinInit:      true,
		sourceFile:     "index.js",
		concurrent:     true,
		notInitialized: answer{http.StatusForbidden, "System not initialized."},
		starting:       answer{http.StatusForbidden, "System not ready, status is starting."},
		initFailed:     answer{http.StatusForbidden, "System not ready, status is stopped."},
		reinitFailed:   answer{http.StatusForbidden, "System not ready, status is stopped."},
		initError: func(detail string, _ bool) string {
			return "Initialization has failed due to: " + detail
		},
		archiveError: "Initialization has failed due to: There was an error uncompressing the action archive.",
		decodeError: func(error) answer {
			return answer{http.StatusBadGateway, "Initialization has failed due to: There was an error uncompressing the action archive."}
		},
		initDied: msgAbnormalInit,
		notDict:  "The action did not return a dictionary.",
		thrown:   func(detail string) string { return "An error has occurred: " + detail },
		badArgument: func(typ string) answer {
			return answer{http.StatusForbidden, fmt.Sprintf("Internal system error: the argument must be a dictionary but has type '%s'.", typ)}
		},
	},
	RuntimePython: withActionLoopAnswers(dialect{
		interpreter:  "python3",
		launcherName: "launcher.py",
		launcher:     launcherPy,
		stdinInit:    true,
		sourceFile:   "__main__.py",
		zipEntry:     "__main__.py",
		extraEnv:     []string{"PYTHONIOENCODING=UTF-8", "PYTHONDONTWRITEBYTECODE=1"},
		initError: func(_ string, compile bool) string {
			if compile {
				return msgNoBinary
			}
			return msgCannotStart
		},
	}),
	RuntimeRuby: withActionLoopAnswers(dialect{
		interpreter:  "ruby",
		launcherName: "launcher.rb",
		launcher:     launcherRb,
		sourceFile:   "main.rb",
		zipEntry:     "main.rb",
		extraEnv:     []string{"RUBYOPT=-EUTF-8"},
		initError:    actionLoopInitError,
	}),
	RuntimePHP: withActionLoopAnswers(dialect{
		interpreter:  "php",
		launcherName: "launcher.php",
		launcher:     launcherPHP,
		sourceFile:   "index.php",
		zipEntry:     "index.php",
		initError:    actionLoopInitError,
	}),
	RuntimeJava: javaDialect(),
	RuntimeGo: withActionLoopAnswers(dialect{
		interpreter: "go",
		executable:  true,
		sourceFile:  "main.go",
		extraEnv:    []string{envWaitForAck + "=1"},
		build:       buildGo,
		initError: func(detail string, compile bool) string {
			if compile {
				return "The action failed to compile: " + detail
			}
			return "Cannot start action: " + detail
		},
	}),
	RuntimeNative: withActionLoopAnswers(dialect{
		executable: true,
		sourceFile: nativeExec,
		zipEntry:   nativeExec,
		initError: func(detail string, _ bool) string {
			return "Cannot start action: " + detail
		},
	}),
}

// actionLoopInitError is the actionloop proxy's init error, with the
// launcher's reason after it (the logs have the whole trace).
func actionLoopInitError(detail string, compile bool) string {
	if compile {
		return msgNoBinary + " " + detail
	}
	return msgCannotStart + " " + detail
}

// javaDialect answers as apache/openwhisk-runtime-java's Proxy.java does:
// every failure is a 502 with "An error has occurred ...".
func javaDialect() *dialect {
	notInit := answer{http.StatusBadGateway, "Cannot invoke an uninitialized action."}
	return &dialect{
		interpreter:    "java",
		prestart:       true,
		keepArchive:    true,
		sourceFile:     "main.jar",
		notInitialized: notInit,
		starting:       notInit,
		initFailed:     notInit,
		reinitFailed:   answer{http.StatusBadGateway, msgReinit},
		initError: func(detail string, _ bool) string {
			return "An error has occurred (see logs for details): " + detail
		},
		archiveError: "An error has occurred (see logs for details): the code is not a jar",
		decodeError: func(err error) answer {
			return answer{http.StatusBadGateway, "An error has occurred (see logs for details): " + err.Error()}
		},
		initDied: msgAbnormalInit,
		notDict:  "An error has occurred (see logs for details): java.lang.NullPointerException: The action returned null",
		thrown: func(detail string) string {
			return "An error has occurred while invoking the action (see logs for details): " + detail
		},
		badArgument: func(typ string) answer {
			return answer{http.StatusBadGateway, "An error has occurred (see logs for details): the argument must be a JSON object but has type " + typ}
		},
	}
}

// Texts of the actionloop proxy (with OW_LOG_INIT_ERROR=1).
const (
	msgNoBinary    = "The action failed to generate or locate a binary. See logs for details."
	msgCannotStart = "Cannot start action. Check logs for details."
)

// withActionLoopAnswers completes d with the answers of the actionloop
// proxy, which the Python and native runtimes share.
func withActionLoopAnswers(d dialect) *dialect {
	notReady := answer{http.StatusInternalServerError, "no action defined yet"}
	d.notInitialized, d.starting, d.initFailed = notReady, notReady, notReady
	d.reinitFailed = answer{http.StatusForbidden, msgReinit}
	d.archiveError = msgNoBinary
	d.decodeError = func(err error) answer {
		return answer{http.StatusBadRequest, "cannot decode the request: " + err.Error()}
	}
	d.initDied = msgCannotStart
	d.notDict = "The action did not return a dictionary or array."
	d.thrown = func(detail string) string { return "An error has occurred: " + detail }
	d.badArgument = func(typ string) answer {
		return answer{http.StatusBadRequest, "the argument must be a dictionary but has type " + typ}
	}
	return &d
}
