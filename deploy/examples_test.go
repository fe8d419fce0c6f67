package deploy_test

import (
	"path/filepath"
	"testing"

	"github.com/wispio/wisp/deploy"
	"github.com/wispio/wisp/internal/testenv"
)

// TestExampleHelloEvents deploys examples/hello-events as a user would, fires
// its trigger, and removes it; then again with its deployment file.
func TestExampleHelloEvents(t *testing.T) {
	e := start(t)
	dir := filepath.Join(testenv.RepoRoot(t), "examples", "hello-events")
	manifest := filepath.Join(dir, "manifest.yaml")

	p, err := deploy.Load(manifest, "", lookup(nil))
	if err != nil {
		t.Fatal(err)
	}
	e.deploy(p)
	if got := e.fired("visitor-arrived", map[string]any{"name": "Ada"}); got["text"] != "HELLO ADA! WELCOME TO THE LOBBY." {
		t.Errorf("welcome = %v", got)
	}

	p, err = deploy.Load(manifest, filepath.Join(dir, "deployment.yaml"), lookup(map[string]string{"PLACE": "the garden"}))
	if err != nil {
		t.Fatal(err)
	}
	e.deploy(p)
	if got := e.fired("visitor-arrived", map[string]any{"name": "Grace"}); got["text"] != "BONJOUR GRACE! WELCOME TO THE GARDEN." {
		t.Errorf("welcome with the deployment file = %v", got)
	}

	e.undeploy("hello-events")
	if left := e.names(); len(left) != 0 {
		t.Errorf("undeploy left %v", left)
	}
}

// TestExampleSlackChatbotLoads checks examples/slack-chatbot: a feed
// trigger, a binding of /whisk.system/slack and a sequence through its
// post action. (server/hooks_test.go drives the same path end to end.)
func TestExampleSlackChatbotLoads(t *testing.T) {
	manifest := filepath.Join(testenv.RepoRoot(t), "examples", "slack-chatbot", "manifest.yaml")
	p, err := deploy.Load(manifest, "", lookup(map[string]string{"SLACK_SIGNING_SECRET": "s", "SLACK_BOT_TOKEN": "xoxb-1"}))
	if err != nil {
		t.Fatal(err)
	}
	if p == nil {
		t.Fatal("no project")
	}
}
