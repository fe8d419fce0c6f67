package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"

	"github.com/docker/docker/api/types/image"
	dclient "github.com/docker/docker/client"

	"github.com/wispio/wisp/actions"
)

// benchKinds is the default kinds table with runtime images of this bench
// run's own: tagged after the wisp binary's path (a fresh folder per run),
// so that building them never retags the images that tests and other
// Wisps on the same engine share. removeBenchImages deletes them.
func benchKinds(wispBin string) *actions.Kinds {
	var rs []actions.Runtime
	for _, byFamily := range actions.DefaultKinds().ByFamily() {
		for _, r := range byFamily {
			r.Image = benchImage(wispBin, r.Image)
			rs = append(rs, r)
		}
	}
	return actions.NewKinds(rs)
}

// benchImage is the bench run's tag of a runtime image.
func benchImage(wispBin, img string) string {
	sum := sha256.Sum256([]byte(wispBin))
	return img + ":bench-" + hex.EncodeToString(sum[:6])
}

// removeBenchImages deletes the images benchKinds named, once the run's
// containers are gone.
func removeBenchImages(ctx context.Context, api *dclient.Client, wispBin string) {
	for _, r := range actions.DefaultKinds().ByFamily() {
		for _, rt := range r {
			_, _ = api.ImageRemove(ctx, benchImage(wispBin, rt.Image), image.RemoveOptions{})
		}
	}
}
