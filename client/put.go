package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// PutEntity creates (or with overwrite updates) an entity of collection
// ("actions", "triggers", "rules" or "packages") with body sent exactly as
// given. Unlike PutAction and Put, whose bodies leave out empty lists, it
// lets a caller send "parameters": [] to clear what an update would otherwise
// keep; declarative tools (wisp deploy) need that.
func (c *Client) PutEntity(ctx context.Context, collection, name string, body any, overwrite bool) (*Response, error) {
	qn, err := c.ParseName(name)
	if err != nil {
		return nil, err
	}
	resp, err := c.do(ctx, request{
		method: http.MethodPut, path: qn.path(collection),
		query: url.Values{"overwrite": {strconv.FormatBool(overwrite)}}, body: body,
	})
	if err != nil {
		return resp, fmt.Errorf("put %s %s: %w", collection, qn, err)
	}
	return resp, nil
}
