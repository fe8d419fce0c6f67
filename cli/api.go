package cli

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wispio/wisp/client"
)

// apiCmd mirrors `wsk api`: create, list, get and delete APIs of the
// built-in gateway, with the same calls wsk makes.
func (a *app) apiCmd() *cobra.Command {
	var apiName, respType, configFile string
	create := a.leaf(&cobra.Command{Use: "create ([BASE_PATH] API_PATH API_VERB ACTION | --config-file CFG_FILE)", Short: "create a new API"},
		func(ctx context.Context, _ *cobra.Command, args []string) error {
			c, s, err := a.client()
			if err != nil {
				return err
			}
			var apidoc map[string]any
			if configFile != "" && len(args) == 0 {
				data, err := os.ReadFile(configFile)
				if err != nil {
					return fmt.Errorf("read swagger file %s: %w", configFile, err)
				}
				apidoc = map[string]any{"namespace": client.DefaultNamespace, "swagger": string(data)}
			} else {
				if err := checkArgs(args, 3, 4, "Specify a swagger file or specify an API base path with an API path, an API verb, and an action name."); err != nil {
					return err
				}
				base := "/"
				if len(args) == 4 {
					base, args = args[0], args[1:]
				}
				q, err := c.ParseName(args[2])
				if err != nil {
					return fmt.Errorf("'%s' is not a valid action name: %w", args[2], err)
				}
				pkg, name := "default", q.Name
				if q.Package != "" {
					pkg, name = q.Package, q.Package+"/"+q.Name
				}
				verb := strings.ToUpper(args[1])
				apidoc = map[string]any{
					"namespace": client.DefaultNamespace, "gatewayBasePath": base, "gatewayPath": args[0], "gatewayMethod": verb,
					"id": "API:" + client.DefaultNamespace + ":" + base,
					"action": map[string]any{
						"name": name, "namespace": q.Namespace, "backendMethod": verb, "authkey": s.Auth,
						"backendUrl": strings.TrimSuffix(s.APIHost, "/") + "/api/v1/web/" + q.Namespace + "/" + pkg + "/" + q.Name + ".http",
					},
				}
				if apiName != "" {
					apidoc["apiName"] = apiName
				}
				if params := pathParameters(args[0]); len(params) > 0 {
					apidoc["pathParameters"] = params
				}
			}
			api, resp, err := c.CreateAPI(ctx, apidoc, respType)
			if err != nil {
				return prefixError(err, "Unable to create API")
			}
			if a.json {
				a.printRaw(resp)
				return nil
			}
			routes, err := api.Routes()
			if err != nil {
				return err
			}
			sortRoutes(routes)
			for _, r := range routes {
				fmt.Fprintf(a.out, "ok: created API %s%s %s for action %s\n%s\n", strings.TrimSuffix(r.BasePath, "/"), r.Path, strings.ToUpper(r.Verb), r.Action, r.URL)
			}
			return nil
		})
	fl := create.Flags()
	fl.StringVarP(&apiName, "apiname", "n", "", "friendly `NAME` of the API (default BASE_PATH)")
	fl.StringVarP(&configFile, "config-file", "c", "", "`CFG_FILE` containing the API in swagger JSON format")
	fl.StringVar(&respType, "response-type", "json", "the web action response `TYPE`: html, http, json, text, svg")

	var limit, skip int
	list := a.leaf(&cobra.Command{Use: "list [BASE_PATH | API_NAME] [API_PATH [API_VERB]]", Short: "list APIs"},
		func(ctx context.Context, _ *cobra.Command, args []string) error {
			if err := checkArgs(args, 0, 3, "Optional parameters are: API base path (or API name), API relative path and operation."); err != nil {
				return err
			}
			c, _, err := a.client()
			if err != nil {
				return err
			}
			base := ""
			if len(args) > 0 {
				base = args[0]
			}
			apis, resp, err := c.GetAPIs(ctx, base, limit, skip)
			if err != nil {
				return prefixError(err, "Unable to obtain the API list")
			}
			if a.json {
				a.printRaw(resp)
				return nil
			}
			fmt.Fprintln(a.out, "ok: APIs")
			fmt.Fprintf(a.out, "%-30s %7s %20s  %s\n", "Action", "Verb", "API Name", "URL")
			var rows []client.APIRoute
			for i := range apis {
				routes, err := apis[i].Routes()
				if err != nil {
					return err
				}
				for _, r := range routes {
					if (len(args) < 2 || r.Path == args[1]) && (len(args) < 3 || strings.EqualFold(r.Verb, args[2])) {
						rows = append(rows, r)
					}
				}
			}
			sortRoutes(rows)
			for _, r := range rows {
				fmt.Fprintf(a.out, "%-30s %7s %20s  %s\n", r.Action, r.Verb, r.Name, r.URL)
			}
			return nil
		})
	list.Flags().IntVarP(&limit, "limit", "l", 30, "only return `LIMIT` APIs")
	list.Flags().IntVarP(&skip, "skip", "s", 0, "exclude the first `SKIP` APIs")

	get := a.leaf(&cobra.Command{Use: "get BASE_PATH | API_NAME", Short: "get an API's swagger document"},
		func(ctx context.Context, _ *cobra.Command, args []string) error {
			if err := checkArgs(args, 1, 1, "An API base path or API name is required."); err != nil {
				return err
			}
			c, _, err := a.client()
			if err != nil {
				return err
			}
			apis, _, err := c.GetAPIs(ctx, args[0], 0, 0)
			if err != nil {
				return prefixError(err, "Unable to get API '%s'", args[0])
			}
			if len(apis) == 0 {
				return fmt.Errorf("API does not exist for basepath %s", args[0])
			}
			a.printJSON(apis[0].Swagger)
			return nil
		})
	get.Flags().String("format", "json", "the output `TYPE` (json)")

	del := a.leaf(&cobra.Command{Use: "delete BASE_PATH | API_NAME [API_PATH [API_VERB]]", Short: "delete an API"},
		func(ctx context.Context, _ *cobra.Command, args []string) error {
			if err := checkArgs(args, 1, 3, "An API base path or API name is required.  An optional API relative path and operation may also be provided."); err != nil {
				return err
			}
			c, _, err := a.client()
			if err != nil {
				return err
			}
			rel, verb := "", ""
			if len(args) > 1 {
				rel = args[1]
			}
			if len(args) > 2 {
				verb = strings.ToUpper(args[2])
			}
			if _, err := c.DeleteAPI(ctx, args[0], rel, verb); err != nil {
				return prefixError(err, "Unable to delete API")
			}
			switch len(args) {
			case 1:
				fmt.Fprintf(a.out, "ok: deleted API %s\n", args[0])
			case 2:
				fmt.Fprintf(a.out, "ok: deleted %s from %s\n", rel, args[0])
			default:
				fmt.Fprintf(a.out, "ok: deleted %s %s from %s\n", rel, verb, args[0])
			}
			return nil
		})
	return a.group("api", "work with APIs", create, list, get, del)
}

// pathParameters are the swagger parameters wsk generates for the {name}
// segments of a relative path.
func pathParameters(rel string) []map[string]any {
	var out []map[string]any
	seen := map[string]bool{}
	for _, seg := range strings.Split(rel, "/") {
		if len(seg) > 2 && strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") && !seen[seg] {
			seen[seg] = true
			n := seg[1 : len(seg)-1]
			out = append(out, map[string]any{"name": n, "in": "path", "description": "Default description for '" + n + "'", "required": true, "type": "string"})
		}
	}
	return out
}

func sortRoutes(rs []client.APIRoute) {
	sort.Slice(rs, func(i, j int) bool {
		return strings.ToLower(rs[i].BasePath+rs[i].Path+rs[i].Verb) < strings.ToLower(rs[j].BasePath+rs[j].Path+rs[j].Verb)
	})
}
