// Command image writes the kseal-controller container image without a
// Docker daemon: an OCI image index with one image per platform, each a
// single layer holding the static binary, a CA bundle and the passwd and
// group entries of the non-root user 65532, and nothing else (no shell,
// no package manager). It writes the index as an OCI image layout in a tar
// file (an "oci-archive", which podman load, skopeo and crane read).
//
//	go run ./image -repo ghcr.io/kseal-dev/kseal-controller -version v0.1.0 -revision COMMIT -epoch 1700000000 \
//	    -bin linux/amd64=dist/…/kseal-controller -bin linux/arm64=… -o dist/kseal-controller_0.1.0_oci.tar
//
// Every time in it is -epoch and every file is sorted, so the same inputs
// give the same bytes (make release-check compares two runs).
package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// nonroot is the user the image runs as (the UID distroless and the
// Deployment's securityContext use).
const nonroot = 65532

// Options are the image's inputs.
type Options struct {
	Version  string            // the release, v0.1.0
	Repo     string            // where it is published: the layout names the image Repo:Version
	Revision string            // the commit built
	Source   string            // the repository URL
	Epoch    time.Time         // every timestamp in the image
	CABundle string            // PEM file of trusted CAs
	Bins     map[string]string // platform (linux/amd64) → static kseal-controller binary
}

type bins map[string]string

func (b bins) String() string { return fmt.Sprint(map[string]string(b)) }
func (b bins) Set(s string) error {
	p, path, ok := strings.Cut(s, "=")
	if !ok || !strings.HasPrefix(p, "linux/") {
		return fmt.Errorf("-bin %q: want linux/ARCH=PATH", s)
	}
	b[p] = path
	return nil
}

func main() {
	o := Options{Bins: map[string]string{}}
	var epoch int64
	var out string
	flag.StringVar(&o.Version, "version", "", "the release (v0.1.0)")
	flag.StringVar(&o.Repo, "repo", "ghcr.io/kseal-dev/kseal-controller", "the image repository (release.env's IMAGE_REPO)")
	flag.StringVar(&o.Revision, "revision", "", "the commit the binaries were built from")
	flag.StringVar(&o.Source, "source", "https://github.com/kseal-dev/kseal", "the repository")
	flag.Int64Var(&epoch, "epoch", 0, "seconds since 1970: every timestamp in the image (SOURCE_DATE_EPOCH)")
	flag.StringVar(&o.CABundle, "ca-bundle", "/etc/ssl/certs/ca-certificates.crt", "the trusted CAs (PEM) to install as /etc/ssl/certs/ca-certificates.crt")
	flag.Var(bins(o.Bins), "bin", "linux/ARCH=PATH of a static kseal-controller (repeat per platform)")
	flag.StringVar(&out, "o", "", "the OCI archive (tar of an OCI image layout) to write")
	flag.Parse()
	o.Epoch = time.Unix(epoch, 0).UTC()
	if err := run(o, out); err != nil {
		fmt.Fprintf(os.Stderr, "image: %v\n", err)
		os.Exit(1)
	}
}

func run(o Options, out string) error {
	if out == "" || o.Version == "" || o.Revision == "" || len(o.Bins) == 0 {
		return errors.New("-o, -version, -revision and at least one -bin are required")
	}
	idx, err := Index(o)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "kseal-image-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	// podman load and skopeo name the image after this.
	if err := p.AppendIndex(idx, layout.WithAnnotations(map[string]string{
		"org.opencontainers.image.ref.name": o.Repo + ":" + o.Version,
	})); err != nil {
		return err
	}
	return tarDir(dir, out, o.Epoch)
}

// Index builds the multi-platform image index.
func Index(o Options) (v1.ImageIndex, error) {
	ca, err := os.ReadFile(o.CABundle)
	if err != nil {
		return nil, fmt.Errorf("CA bundle: %w", err)
	}
	labels := map[string]string{
		"org.opencontainers.image.title":       "kseal-controller",
		"org.opencontainers.image.description": "Unseals kseal SealedSecrets into Kubernetes Secrets",
		"org.opencontainers.image.source":      o.Source,
		"org.opencontainers.image.url":         o.Source,
		"org.opencontainers.image.version":     o.Version,
		"org.opencontainers.image.revision":    o.Revision,
		"org.opencontainers.image.licenses":    "Apache-2.0",
		"org.opencontainers.image.created":     o.Epoch.Format(time.RFC3339),
	}
	var idx v1.ImageIndex = mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	platforms := make([]string, 0, len(o.Bins))
	for p := range o.Bins {
		platforms = append(platforms, p)
	}
	sort.Strings(platforms)
	for _, p := range platforms {
		bin, err := os.ReadFile(o.Bins[p])
		if err != nil {
			return nil, err
		}
		arch := strings.TrimPrefix(p, "linux/")
		img, err := image(arch, bin, ca, labels, o.Epoch)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add: img,
			Descriptor: v1.Descriptor{
				Platform:    &v1.Platform{OS: "linux", Architecture: arch},
				Annotations: map[string]string{"org.opencontainers.image.version": o.Version},
			},
		})
	}
	return mutate.Annotations(idx, labels).(v1.ImageIndex), nil
}

// image is one platform's image: one layer, run as nonroot.
func image(arch string, bin, ca []byte, labels map[string]string, epoch time.Time) (v1.Image, error) {
	files := []file{
		{name: "etc/", mode: 0o755},
		{name: "etc/group", mode: 0o644, data: []byte(fmt.Sprintf("root:x:0:\nnonroot:x:%d:\n", nonroot))},
		{name: "etc/passwd", mode: 0o644, data: []byte(fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%d:%d:nonroot:/home/nonroot:/sbin/nologin\n", nonroot, nonroot))},
		{name: "etc/ssl/", mode: 0o755},
		{name: "etc/ssl/certs/", mode: 0o755},
		{name: "etc/ssl/certs/ca-certificates.crt", mode: 0o644, data: ca},
		{name: "home/", mode: 0o755},
		{name: "home/nonroot/", mode: 0o700, uid: nonroot},
		{name: "kseal-controller", mode: 0o755, data: bin},
		{name: "tmp/", mode: 0o1777},
	}
	var buf bytes.Buffer
	if err := writeTar(&buf, files, epoch); err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(buf.Bytes())), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{
		Layer:   layer,
		History: v1.History{Created: v1.Time{Time: epoch}, CreatedBy: "kseal hack/release/image", Comment: "kseal-controller, CA bundle, nonroot user"},
	})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", arch
	cf.Created = v1.Time{Time: epoch}
	cf.Config = v1.Config{
		User:       fmt.Sprintf("%d:%d", nonroot, nonroot),
		Entrypoint: []string{"/kseal-controller"},
		WorkingDir: "/",
		Env:        []string{"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"},
		Labels:     labels,
		ExposedPorts: map[string]struct{}{
			"8080/tcp": {}, "8081/tcp": {}, "8082/tcp": {},
		},
	}
	return mutate.ConfigFile(img, cf)
}

// file is one tar entry; a name ending in / is a directory.
type file struct {
	name string
	mode int64 // permission bits, with the sticky bit 0o1000
	uid  int
	data []byte
}

// writeTar writes files, in the given (sorted) order, owned by root unless
// said otherwise, all at epoch.
func writeTar(w io.Writer, files []file, epoch time.Time) error {
	tw := tar.NewWriter(w)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: f.mode, ModTime: epoch, Uid: f.uid, Gid: f.uid, Format: tar.FormatPAX}
		if strings.HasSuffix(f.name, "/") {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(f.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if _, err := tw.Write(f.data); err != nil {
			return err
		}
	}
	return tw.Close()
}

// tarDir writes the OCI layout in dir as a tar file at out, in sorted
// order with fixed times and owners.
func tarDir(dir, out string, epoch time.Time) error {
	var files []file
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			files = append(files, file{name: rel + "/", mode: 0o755})
			return nil
		}
		b, err := os.ReadFile(p)
		files = append(files, file{name: rel, mode: 0o644, data: b})
		return err
	})
	if err != nil {
		return err
	}
	sort.Slice(files, func(i, j int) bool { return files[i].name < files[j].name })
	tmp := out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if err := writeTar(f, files, epoch); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, out)
}
