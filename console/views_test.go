package console_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/wispio/wisp/client"
)

// TestConsoleViews: the entity views list what the API holds, a trigger
// fire's rule activation streams in with its cause (the trigger's
// activation), and the feeds view shows the trigger's fires from the
// namespace's metrics (no feed event: the fire came through the API).
func TestConsoleViews(t *testing.T) {
	srv, key := startServer(t)
	ctx := browser(t)
	base := "http://" + srv.Addr()
	c := client.New(client.Config{APIHost: base, Auth: key})
	bg := context.Background()
	if _, _, err := c.PutAction(bg, &client.Action{Name: "greet", Exec: &client.Exec{Kind: "nodejs:20", Code: `function main(p) { return {n: 1}; }`}}, true); err != nil {
		t.Fatal(err)
	}
	trigger := map[string]any{"annotations": []map[string]any{{"key": "feed", "value": "/whisk.system/alarms/alarm"}}}
	if _, err := c.PutEntity(bg, client.Triggers, "tick", trigger, true); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutEntity(bg, client.Rules, "tick-greet", map[string]any{"trigger": "tick", "action": "greet"}, true); err != nil {
		t.Fatal(err)
	}

	run(t, ctx, 30*time.Second, "log in",
		chromedp.Navigate(base+"/console/"),
		chromedp.WaitVisible("#key", chromedp.ByQuery),
		chromedp.SetValue("#key", key, chromedp.ByQuery),
		chromedp.Click("#login-button", chromedp.ByQuery),
		chromedp.Poll(`document.body.dataset.stream === "open"`, nil),
	)
	for _, tc := range []struct{ tab, want string }{
		{"actions", "greet nodejs:20"},
		{"triggers", "tick /whisk.system/alarms/alarm"},
		{"rules", "tick-greet tick greet active"},
	} {
		var text string
		run(t, ctx, 10*time.Second, "open "+tc.tab,
			chromedp.Click(`#tabs button[data-view="`+tc.tab+`"]`, chromedp.ByQuery),
			chromedp.Poll(`document.querySelector("#view-`+tc.tab+` tbody").innerText.replace(/\s+/g, " ").includes(`+quote(tc.want)+`)`, nil),
			chromedp.Text("#view-"+tc.tab+" tbody", &text, chromedp.ByQuery),
		)
		t.Logf("%s: %s", tc.tab, strings.Join(strings.Fields(text), " "))
	}

	fire, _, err := c.FireTrigger(bg, "tick", map[string]string{})
	if err != nil {
		t.Fatalf("fire: %v", err)
	}
	run(t, ctx, streamBound, "see the rule's activation caused by the fire",
		chromedp.Click(`#tabs button[data-view="activity"]`, chromedp.ByQuery),
		chromedp.Poll(`[...document.querySelectorAll("#activations tbody tr")].some((tr) => tr.cells[1].textContent === "greet" && tr.cells[5].textContent === `+quote(fire)+`)`, nil),
	)
	// The fire counts in the namespace's metrics once its trigger
	// activation is written, maybe after the rule's activation streamed
	// in: the view is loaded again until it shows.
	run(t, ctx, 10*time.Second, "feed health",
		chromedp.Click(`#tabs button[data-view="feeds"]`, chromedp.ByQuery),
		chromedp.Poll(`(() => { const r = document.querySelector("#view-feeds tbody tr");
			if (r && r.cells[0].textContent === "tick" && r.cells[2].textContent === "never" && r.cells[7].textContent === "1") return true;
			show("feeds"); return false; })()`, nil, chromedp.WithPollingInterval(250*time.Millisecond)),
	)
}

// quote is s as a JavaScript string literal (the test's strings hold no
// quotes or backslashes).
func quote(s string) string { return `"` + s + `"` }
