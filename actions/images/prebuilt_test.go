package images_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/docker/docker/api/types/image"
	dclient "github.com/docker/docker/client"

	"github.com/wispio/wisp/actions/images"
	"github.com/wispio/wisp/internal/testenv"
)

// TestPrebuilt builds the native image under a tag of its own with Ensure
// and looks it up as a wisp without the host's C library would: found and
// the same proxy for the binary it was built from, found but another proxy
// for a binary with other bytes, not found for an image that does not
// exist. It removes the image.
func TestPrebuilt(t *testing.T) {
	testenv.Docker(t)
	dir := t.TempDir()
	wisp := filepath.Join(dir, "wisp")
	if out, err := exec.Command("go", "build", "-o", wisp, "github.com/wispio/wisp/cmd/wisp").CombinedOutput(); err != nil {
		t.Fatalf("build wisp: %v\n%s", err, out)
	}
	b, err := os.ReadFile(wisp)
	if err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other")
	if err := os.WriteFile(other, append(b, 0), 0o755); err != nil {
		t.Fatal(err)
	}
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	tag := "wisp-test/prebuilt-native:" + hex.EncodeToString(suffix)
	rt, ok := images.NativeRuntime("native", tag, "/bin/sh")
	testenv.Require(t, "a dynamically linked /bin/sh", ok, "ldd /bin/sh shows no C library")
	ctx := context.Background()
	api, err := dclient.NewClientWithOpts(dclient.FromEnv, dclient.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	if err := images.Ensure(ctx, api, rt, wisp); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := api.ImageRemove(context.Background(), tag, image.RemoveOptions{Force: true}); err != nil {
			t.Errorf("remove %s: %v", tag, err)
		}
	})
	for _, tt := range []struct {
		name, image, bin    string
		wantFound, wantSame bool
	}{
		{name: "built from this binary", image: tag, bin: wisp, wantFound: true, wantSame: true},
		{name: "built from another binary", image: tag, bin: other, wantFound: true},
		{name: "no such image", image: tag + "-missing", bin: wisp},
	} {
		t.Run(tt.name, func(t *testing.T) {
			found, same, err := images.Prebuilt(ctx, api, tt.image, tt.bin)
			if err != nil || found != tt.wantFound || same != tt.wantSame {
				t.Fatalf("Prebuilt(%s) = found %v, same %v, %v; want %v, %v", tt.image, found, same, err, tt.wantFound, tt.wantSame)
			}
		})
	}
}
