package entity

import (
	"strings"
	"testing"
)

func TestSalvageFields(t *testing.T) {
	deep := strings.Repeat("[", 10_001) + strings.Repeat("]", 10_001)
	tests := []struct {
		name, in    string
		wantSubject string
		wantAction  FQN
	}{
		{"whole", `{"subject":"ns","action":{"namespace":"ns","name":"a"}}`, "ns", FQN{Namespace: "ns", Name: "a"}},
		{"deep before", `{"params":` + deep + `,"subject":"ns","req":{"x":` + deep + `,"action":{"namespace":"p","package":"k","name":"a"}}}`, "ns", FQN{Namespace: "p", Package: "k", Name: "a"}},
		{"cut short after", `{"subject":"ns","params":{"v":[1,`, "ns", FQN{}},
		{"not an object", `[1]`, "", FQN{}},
		{"empty", ``, "", FQN{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var subject string
			var action FQN
			fields := map[string]any{"subject": &subject, "action": &action}
			if strings.Contains(tt.in, `"req"`) {
				fields["req"] = map[string]any{"action": &action}
				delete(fields, "action")
			}
			SalvageFields([]byte(tt.in), fields)
			if subject != tt.wantSubject || action != tt.wantAction {
				t.Fatalf("got %q %+v, want %q %+v", subject, action, tt.wantSubject, tt.wantAction)
			}
		})
	}
}
