package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/store"
)

// msgNotAllowedOnBinding is OpenWhisk's answer to writing an action into a
// binding.
const msgNotAllowedOnBinding = "Operation not permitted on package binding."

func (s *Server) packageRoutes() {
	s.handle("GET /api/v1/namespaces/{ns}/packages", s.listPackages)
	s.handle("GET /api/v1/namespaces/{ns}/packages/{$}", s.listPackages)
	s.handle("GET /api/v1/namespaces/{ns}/packages/{name}", s.getPackage)
	s.handle("PUT /api/v1/namespaces/{ns}/packages/{name}", s.putPackage)
	s.handle("DELETE /api/v1/namespaces/{ns}/packages/{name}", s.deletePackage)
}

func packageFQN(r *http.Request, ns string) (entity.FQN, error) {
	f := entity.FQN{Namespace: ns, Name: r.PathValue("name")}
	return f, entity.ValidateName("name", f.Name)
}

func (s *Server) putPackage(w http.ResponseWriter, r *http.Request, id identity) error {
	ns, err := id.namespace(r)
	if err != nil {
		return err
	}
	fqn, err := packageFQN(r, ns)
	if err != nil {
		return err
	}
	overwrite, err := queryBool(r, "overwrite", false)
	if err != nil {
		return err
	}
	var req entity.PackagePut
	if err := decodeBody(w, r, int64(s.cfg.Limits.ParamsSize)+1<<20, &req); err != nil {
		return err
	}
	p, err := putEntity(r.Context(), s.store, ns, store.Packages, fqn.Name, overwrite, func(existing *entity.Package) (*entity.Package, error) {
		p, err := entity.BuildPackage(fqn, &req, existing, s.cfg.Limits, time.Now().UnixMilli())
		if err != nil {
			return nil, err
		}
		if p.IsBinding() {
			if err := s.activator.Resolver().CheckBinding(r.Context(), id.Namespace, p.Binding); err != nil {
				return nil, err
			}
		}
		return p, nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

// getPackage answers a package with its actions and feeds; a binding comes
// with the bound package's parameters merged under its own and the bound
// package's actions, as OpenWhisk shows it.
func (s *Server) getPackage(w http.ResponseWriter, r *http.Request, id identity) error {
	fqn, err := packageFQN(r, id.readNamespace(r))
	if err != nil {
		return err
	}
	named, target, err := s.activator.Resolver().Package(r.Context(), id.Namespace, fqn)
	if err != nil {
		return err
	}
	out := *named
	if named.IsBinding() {
		out.Parameters = target.Parameters.Merge(named.Parameters)
	}
	if out.Actions, out.Feeds, err = s.packageContents(r.Context(), target); err != nil {
		return err
	}
	if out.Actions == nil {
		out.Actions = []entity.PackageAction{}
	}
	if out.Feeds == nil {
		out.Feeds = []entity.PackageAction{}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// packageContents lists a package's actions, the ones annotated "feed"
// apart.
func (s *Server) packageContents(ctx context.Context, p *entity.Package) (actions, feeds []entity.PackageAction, err error) {
	recs, err := s.store.List(ctx, p.Namespace, store.Actions, store.ListOptions{Prefix: p.Name + "/", Project: summarizeAction})
	if err != nil {
		return nil, nil, fmt.Errorf("list actions of package %s: %w", p.FQN(), err)
	}
	for _, rec := range recs {
		var sum actionSummary
		if err := json.Unmarshal(rec.Doc, &sum); err != nil {
			return nil, nil, fmt.Errorf("decode action %s/%s: %w", p.Namespace, rec.Name, err)
		}
		a := entity.Action{Namespace: sum.Namespace, Name: sum.Name, Version: sum.Version, Annotations: sum.Annotations}
		pa := entity.PackageAction{Name: a.FQN().Name, Version: a.Version, Annotations: a.Annotations}
		if _, isFeed := a.Annotations.Get("feed"); isFeed {
			feeds = append(feeds, pa)
		} else {
			actions = append(actions, pa)
		}
	}
	return actions, feeds, nil
}

func (s *Server) deletePackage(w http.ResponseWriter, r *http.Request, id identity) error {
	ns, err := id.namespace(r)
	if err != nil {
		return err
	}
	fqn, err := packageFQN(r, ns)
	if err != nil {
		return err
	}
	p, rev, err := store.GetDoc[entity.Package](r.Context(), s.store, ns, store.Packages, fqn.Name)
	if err != nil {
		return err
	}
	if !p.IsBinding() {
		n, err := s.store.Count(r.Context(), ns, store.Actions, fqn.Name+"/")
		if err != nil {
			return err
		}
		if n > 0 {
			noun := "entities"
			if n == 1 {
				noun = "entity"
			}
			return newError(http.StatusConflict, fmt.Sprintf("Package not empty (contains %d %s)", n, noun))
		}
	}
	if err := s.store.Delete(r.Context(), ns, store.Packages, fqn.Name, rev); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

// listPackages lists a namespace's packages and bindings; another
// namespace shows only its published packages.
func (s *Server) listPackages(w http.ResponseWriter, r *http.Request, id identity) error {
	ns := id.readNamespace(r)
	skip, limit, err := listPage(r)
	if err != nil {
		return err
	}
	count, err := queryBool(r, "count", false)
	if err != nil {
		return err
	}
	own := ns == id.Namespace
	if own && count {
		n, err := s.store.Count(r.Context(), ns, store.Packages, "")
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]int{"packages": n})
		return nil
	}
	opts := store.ListOptions{Skip: skip, Limit: limit}
	if !own {
		opts = store.ListOptions{} // filter before paging
	}
	recs, err := s.store.List(r.Context(), ns, store.Packages, opts)
	if err != nil {
		return err
	}
	out := make([]entity.Package, 0, len(recs))
	for _, rec := range recs {
		var p entity.Package
		if err := json.Unmarshal(rec.Doc, &p); err != nil {
			return fmt.Errorf("decode package %s/%s: %w", ns, rec.Name, err)
		}
		if own || p.Publish {
			out = append(out, p)
		}
	}
	if count {
		writeJSON(w, http.StatusOK, map[string]int{"packages": len(out)})
		return nil
	}
	if !own {
		out = page(out, skip, limit)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func page[T any](xs []T, skip, limit int) []T {
	if skip >= len(xs) {
		return xs[:0]
	}
	xs = xs[skip:]
	if limit > 0 && len(xs) > limit {
		xs = xs[:limit]
	}
	return xs
}

// checkPackageWritable answers whether actions may be created in or
// deleted from package pkg of namespace ns: it must exist and not be a
// binding.
func (s *Server) checkPackageWritable(ctx context.Context, ns, pkg string) error {
	p, _, err := store.GetDoc[entity.Package](ctx, s.store, ns, store.Packages, pkg)
	if err != nil {
		return err
	}
	if p.IsBinding() {
		return newError(http.StatusBadRequest, msgNotAllowedOnBinding)
	}
	return nil
}
