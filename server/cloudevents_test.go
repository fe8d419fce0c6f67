package server

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"testing"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/routing"
)

// TestCloudEventsThroughTheQueue: CloudEvents sent by the SDK's client to
// a whole server go through the triggers queue with their attributes; a
// filter on event.type runs the action for the matching event only, and
// the same event sent again runs it once.
func TestCloudEventsThroughTheQueue(t *testing.T) {
	srv, a := startTriggerServer(t, nil)
	a.action("ship", 1)
	a.must(200, "PUT", "_/triggers/orders", nil)
	a.filteredRule("big", "orders", "ship", "event.type == 'com.example.order' && params.total > 100 && event.region == 'eu'")

	p, err := cloudevents.NewHTTP(
		cehttp.WithTarget(a.base+"_/triggers/orders"),
		cehttp.WithHeader("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(a.auth.UUID+":"+a.auth.Key))),
	)
	if err != nil {
		t.Fatal(err)
	}
	c, err := cloudevents.NewClient(p)
	if err != nil {
		t.Fatal(err)
	}
	send := func(ctx context.Context, id, typ string, total int) {
		t.Helper()
		ev := cloudevents.NewEvent()
		ev.SetID(id)
		ev.SetSource("urn:shop")
		ev.SetType(typ)
		ev.SetExtension("region", "eu")
		_ = ev.SetData(cloudevents.ApplicationJSON, map[string]any{"total": total})
		var hr *cehttp.Result
		if res := c.Send(ctx, ev); !cloudevents.ResultAs(res, &hr) || hr.StatusCode != http.StatusAccepted {
			t.Fatalf("send %s: %v", id, res)
		}
	}
	ctx := t.Context()
	send(cloudevents.WithEncodingBinary(ctx), "o-1", "com.example.order", 250)
	send(cloudevents.WithEncodingStructured(ctx), "o-1", "com.example.order", 250) // the same event again
	send(cloudevents.WithEncodingStructured(ctx), "o-2", "com.example.refund", 250)

	T := entity.FQN{Namespace: "fire", Name: "orders"}
	matched := a.ruleResults(routing.EventActivationID(T, "", &entity.EventAttributes{Source: "urn:shop", ID: "o-1"}))
	if len(matched) != 1 || matched[0]["success"] != true {
		t.Fatalf("o-1: %v", matched)
	}
	refund := a.ruleResults(routing.EventActivationID(T, "", &entity.EventAttributes{Source: "urn:shop", ID: "o-2"}))
	if len(refund) != 1 || refund[0]["filtered"] != true {
		t.Fatalf("o-2: %v", refund)
	}
	act := a.activation(matched[0]["activationId"].(string))
	if got := echoed(t, act); got["total"] != float64(250) {
		t.Fatalf("ship got %v", got)
	}
	if n := len(a.activationsOf("ship")); n != 1 {
		t.Fatalf("%d activations of ship, want 1", n)
	}
	// The fire no rule passed is counted with the others.
	resp, err := http.Get("http://" + srv.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if want := `wisp_rule_activations_total{namespace="fire",outcome="filtered",trigger="orders"} 1`; !strings.Contains(string(body), want) {
		t.Fatalf("metrics lack %s", want)
	}
}
