package main_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// signEnv is what hack/release/sign.sh reads: the release, the key and
// the public key users verify with.
type signEnv struct {
	key, password, pub, tag string
	extra                   []string
	preflight               bool // sign.sh --preflight, as make release runs it first
}

// sign runs hack/release/sign.sh on dist as make release does, and
// returns its output and error.
func sign(t *testing.T, cosign, dist string, e signEnv) (string, error) {
	t.Helper()
	rel := releaseEnv(t)
	args := []string{filepath.Join(root, "hack", "release", "sign.sh"), dist}
	if e.preflight {
		args = []string{args[0], "--preflight", dist}
	}
	cmd := exec.Command("bash", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "VERSION="+rel["VERSION"], "IMAGE_REPO="+rel["IMAGE_REPO"], "KSEAL_COSIGN="+cosign,
		"COSIGN_KEY="+e.key, "COSIGN_PASSWORD="+e.password, "COSIGN_PUB="+e.pub, "RELEASE_TAG="+e.tag)
	cmd.Env = append(cmd.Env, e.extra...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// keyPair makes a throwaway cosign key pair in a new directory and
// returns the private and public key files.
func keyPair(t *testing.T, cosign, password string) (key, pub string) {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(cosign, "generate-key-pair")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "COSIGN_PASSWORD="+password)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cosign generate-key-pair: %v\n%s", err, out)
	}
	return filepath.Join(dir, "cosign.key"), filepath.Join(dir, "cosign.pub")
}

// cmdOut runs a command and returns its standard output, and an error
// holding its standard error when it fails.
func cmdOut(dir, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %v\n%s%s", filepath.Base(name), strings.Join(args, " "), err, out, stderr.String())
	}
	return strings.TrimSpace(string(out)), nil
}

// registry serves an empty OCI registry on 127.0.0.1 with crane (pinned
// in hack/release/go.mod) for the test's life, and returns crane and the
// registry's host:port.
func registry(t *testing.T) (crane, addr string) {
	t.Helper()
	crane = filepath.Join(bin, "release", "crane")
	cmd := exec.Command("go", "build", "-o", crane, "github.com/google/go-containerregistry/cmd/crane")
	cmd.Dir = filepath.Join(root, "hack", "release")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building crane: %v\n%s", err, out)
	}
	srv := exec.Command(crane, "registry", "serve", "--address", "127.0.0.1:0")
	stderr, err := srv.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Process.Kill(); _ = srv.Wait() })
	port := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(stderr)
		re := regexp.MustCompile(`serving on port (\d+)`)
		for s.Scan() {
			if m := re.FindStringSubmatch(s.Text()); m != nil {
				port <- m[1]
			}
		}
	}()
	select {
	case p := <-port:
		return crane, "127.0.0.1:" + p
	case <-time.After(30 * time.Second):
		t.Fatal("crane registry serve did not say its port")
	}
	return "", ""
}

// TestReleaseSigned signs a release the way make release does
// (hack/release/sign.sh on a dist/ holding SHA256SUMS and the controller
// image archive), with throwaway key pairs, offline, and verifies it the
// way docs/release.md tells users to: cosign verify-blob of SHA256SUMS
// then sha256sum --check, and cosign verify of the image once the release
// workflow's pushes (the image, then its signature) have put both in a
// registry. One changed byte in SHA256SUMS, another key, or the signature
// beside another image fails verification. Without a key the release
// says it is unsigned and goes on, except for a tagged release; with
// RELEASE_SIGN=later (the workflow's make release) a tagged build needs
// no key, signs nothing, and fails if a key is in its environment; a key
// that is not the published one fails and leaves no signature behind.
func TestReleaseSigned(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the controller image and signs it with cosign (-short)")
	}
	cosign := tool(t, "KSEAL_COSIGN")
	rel := releaseEnv(t)
	cv := strings.TrimPrefix(rel["VERSION"], "v")
	const revision = "0123456789abcdef0123456789abcdef01234567"

	// dist/ as make release leaves it, cut down to what signing reads: the
	// image archive and SHA256SUMS naming it and another artifact.
	dist := t.TempDir()
	archive := filepath.Join(dist, "kseal-controller_"+cv+"_oci.tar")
	if err := os.Rename(buildImage(t, rel["IMAGE_REPO"], rel["VERSION"], revision), archive); err != nil {
		t.Fatal(err)
	}
	install, err := os.ReadFile(filepath.Join(root, "config", "install.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dist, "install.yaml"), install, 0o644); err != nil {
		t.Fatal(err)
	}
	sums := fmt.Sprintf("%s  install.yaml\n%s  %s\n", sha256File(t, filepath.Join(dist, "install.yaml")), sha256File(t, archive), filepath.Base(archive))
	sumsFile := filepath.Join(dist, "SHA256SUMS")
	if err := os.WriteFile(sumsFile, []byte(sums), 0o644); err != nil {
		t.Fatal(err)
	}
	sig, sigDir := sumsFile+".sig", filepath.Join(dist, "kseal-controller_"+cv+"_oci.sig")
	noSignature := func(t *testing.T, after string) {
		t.Helper()
		for _, p := range []string{sig, sigDir} {
			if _, err := os.Stat(p); err == nil {
				t.Errorf("%s: %s is left in dist/", after, filepath.Base(p))
			}
		}
	}

	key, pub := keyPair(t, cosign, "release-pw")
	_, otherPub := keyPair(t, cosign, "other-pw")

	later := []string{"RELEASE_SIGN=later"}
	tag := rel["VERSION"]
	for _, c := range []struct {
		name string
		env  signEnv
		ok   bool
		want string // in the output
	}{
		{"no key: unsigned, said plainly", signEnv{pub: pub}, true, "UNSIGNED: COSIGN_KEY is not set"},
		{"a tagged release without a key fails", signEnv{pub: pub, tag: tag}, false, "is a tagged release and COSIGN_KEY is not set"},
		{"preflight: a tagged release without a key fails", signEnv{pub: pub, tag: tag, preflight: true}, false, "is a tagged release and COSIGN_KEY is not set"},
		{"preflight: a tagged release signed later passes without a key", signEnv{pub: pub, tag: tag, preflight: true, extra: later}, true, ""},
		{"a tagged release signed later signs nothing, said plainly", signEnv{pub: pub, tag: tag, extra: later}, true, "NOT SIGNED YET (RELEASE_SIGN=later): run make release-sign"},
		{"preflight: signed later with the key in the build's env fails", signEnv{key: key, password: "release-pw", pub: pub, tag: tag, preflight: true, extra: later}, false, "the build must not see the key"},
		{"signed later with the key's password in the build's env fails", signEnv{pub: pub, tag: tag, extra: append(later, "COSIGN_PASSWORD=release-pw")}, false, "the build must not see the key"},
		{"signed later with the key's PEM in the build's env fails", signEnv{pub: pub, tag: tag, extra: append(later, "COSIGN_PRIVATE_KEY=pem")}, false, "the build must not see the key"},
		{"an unknown RELEASE_SIGN fails", signEnv{pub: pub, tag: tag, extra: []string{"RELEASE_SIGN=never"}}, false, "the only value is later"},
		{"a key that is not the published one fails", signEnv{key: key, password: "release-pw", pub: otherPub}, false, "COSIGN_KEY is not the key users verify with"},
		{"a placeholder public key fails", signEnv{key: key, password: "release-pw", pub: filepath.Join(root, "README.md")}, false, "holds no public key"},
		{"a wrong password fails", signEnv{key: key, password: "guess", pub: pub}, false, "decrypt"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, err := sign(t, cosign, dist, c.env)
			switch {
			case c.ok && err != nil:
				t.Fatalf("sign.sh: %v\n%s", err, out)
			case !c.ok && err == nil:
				t.Fatalf("sign.sh succeeded:\n%s", out)
			case !strings.Contains(out, c.want):
				t.Errorf("sign.sh's output lacks %q:\n%s", c.want, out)
			}
			if strings.Contains(out, "release-pw") {
				t.Error("sign.sh printed the key's password")
			}
			noSignature(t, c.name)
		})
	}

	// As the release workflow passes it: the key's PEM in a variable.
	pem, err := os.ReadFile(key)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := sign(t, cosign, dist, signEnv{key: "env://COSIGN_PRIVATE_KEY", password: "release-pw", pub: pub,
		tag: rel["VERSION"], extra: []string{"COSIGN_PRIVATE_KEY=" + string(pem)}}); err != nil {
		t.Fatalf("sign.sh: %v\n%s", err, out)
	} else if strings.Contains(out, "PRIVATE KEY") || strings.Contains(out, "release-pw") {
		t.Errorf("sign.sh printed the key or its password:\n%s", out)
	}

	t.Run("SHA256SUMS", func(t *testing.T) {
		verify := func(key, sums string) (string, error) {
			out, err := exec.Command(cosign, "verify-blob", "--key", key, "--insecure-ignore-tlog=true", "--signature", sig, sums).CombinedOutput()
			return string(out), err
		}
		if out, err := verify(pub, sumsFile); err != nil {
			t.Fatalf("the documented verification fails: %v", err)
		} else if !strings.Contains(out, "Verified OK") {
			t.Errorf("cosign verify-blob: %s", out)
		}
		if _, err := cmdOut(dist, "sha256sum", "--check", "--ignore-missing", "SHA256SUMS"); err != nil {
			t.Error(err)
		}
		if out, err := verify(otherPub, sumsFile); err == nil {
			t.Errorf("SHA256SUMS.sig verifies with another key:\n%s", out)
		}
		b := []byte(sums)
		b[0] ^= 1 // the first artifact's sum, one byte changed
		tampered := filepath.Join(t.TempDir(), "SHA256SUMS")
		if err := os.WriteFile(tampered, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := verify(pub, tampered); err == nil {
			t.Errorf("a SHA256SUMS with one byte changed verifies:\n%s", out)
		}
	})

	t.Run("image", func(t *testing.T) {
		crane, reg := registry(t)
		repo := reg + "/kseal-controller"
		// What the release workflow does: push the image, then its
		// signature to the tag cosign looks for.
		layout := filepath.Join(t.TempDir(), "oci")
		if err := os.Mkdir(layout, 0o755); err != nil {
			t.Fatal(err)
		}
		if _, err := cmdOut(dist, "tar", "-xf", archive, "-C", layout); err != nil {
			t.Fatal(err)
		}
		ref, err := cmdOut(dist, crane, "push", layout, repo+":"+rel["VERSION"])
		if err != nil {
			t.Fatal(err)
		}
		digest := ref[strings.Index(ref, "@")+1:]
		if _, err := cmdOut(dist, crane, "push", sigDir, repo+":"+strings.Replace(digest, ":", "-", 1)+".sig"); err != nil {
			t.Fatal(err)
		}
		verify := func(key, image string) (string, error) {
			return cmdOut(dist, cosign, "verify", "--key", key, "--insecure-ignore-tlog=true", image)
		}
		out, err := verify(pub, repo+":"+rel["VERSION"])
		if err != nil {
			t.Fatalf("the documented verification fails: %v", err)
		}
		for _, want := range []string{`"docker-manifest-digest":"` + digest + `"`, `"docker-reference":"` + rel["IMAGE_REPO"] + `"`} {
			if !strings.Contains(out, want) {
				t.Errorf("cosign verify: the signed claim lacks %s:\n%s", want, out)
			}
		}
		if out, err := verify(otherPub, repo+":"+rel["VERSION"]); err == nil {
			t.Errorf("the image signature verifies with another key:\n%s", out)
		}
		// The signature copied beside another image (another revision,
		// so another digest) does not vouch for it.
		other := filepath.Join(t.TempDir(), "oci")
		if err := os.Mkdir(other, 0o755); err != nil {
			t.Fatal(err)
		}
		if _, err := cmdOut(dist, "tar", "-xf", buildImage(t, rel["IMAGE_REPO"], rel["VERSION"], strings.Repeat("f", 40)), "-C", other); err != nil {
			t.Fatal(err)
		}
		ref2, err := cmdOut(dist, crane, "push", other, repo+":other")
		if err != nil {
			t.Fatal(err)
		}
		digest2 := ref2[strings.Index(ref2, "@")+1:]
		if digest2 == digest {
			t.Fatal("two revisions gave one image digest")
		}
		if _, err := cmdOut(dist, crane, "push", sigDir, repo+":"+strings.Replace(digest2, ":", "-", 1)+".sig"); err != nil {
			t.Fatal(err)
		}
		if out, err := verify(pub, repo+":other"); err == nil {
			t.Errorf("the signature of %s verifies another image %s:\n%s", digest, digest2, out)
		}
	})
}
