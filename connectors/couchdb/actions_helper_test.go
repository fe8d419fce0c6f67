package couchdb

import "github.com/wispio/wisp/actions/builtin"

// The system actions' names, the keys of actionsByName.
const (
	ReadHandler  = "read"
	WriteHandler = "write"
	QueryHandler = "query"
)

// actionsByName returns p's system actions by name, as the feed manager
// serves them under /whisk.system/couchdb/<name>.
func actionsByName(p *Provider) builtin.Registry {
	reg := builtin.Registry{}
	for _, a := range p.Actions() {
		reg[a.Name] = a.Func
	}
	return reg
}
