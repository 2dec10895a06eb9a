package cli

import (
	"encoding/base64"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fakeKubectl puts on PATH a kubectl that logs its arguments, one call a
// line, and answers `get` with the file named after the Secret in dir.
func fakeKubectl(t *testing.T, dir string) (log string) {
	t.Helper()
	bin := filepath.Join(dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	log = filepath.Join(dir, "calls.log")
	script := `#!/bin/sh
printf '%s|' "$@" >>` + shellQuote(log) + `
printf '\n---\n' >>` + shellQuote(log) + `
case $1 in
get) for a; do last=$a; done; f=` + shellQuote(dir) + `/"${last#secret/}"; [ ! -f "$f" ] || cat "$f" ;;
esac
`
	if err := os.WriteFile(filepath.Join(bin, "kubectl"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	return log
}

// liveState is what the adopt script's go-template prints for a Secret.
func liveState(owners, typ string, data map[string][]byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, "uid-1 42\n%s\n%s\n", owners, typ)
	for _, k := range slices.Sorted(maps.Keys(data)) {
		fmt.Fprintf(&b, "%s=%s\n", k, base64.StdEncoding.EncodeToString(data[k]))
	}
	return b.String()
}

func runScript(t *testing.T, dir, script string) (string, error) {
	t.Helper()
	path := filepath.Join(dir, "adopt.sh")
	if err := os.WriteFile(path, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("sh", path).CombinedOutput()
	return string(out), err
}

// TestAdoptScriptRefusesBadNames: a name or namespace the API server would
// not accept stops the script before kubectl runs at all (an import
// refuses such names; the script refuses them again, whatever wrote it).
// Guard: names() in adoptPrologue.
func TestAdoptScriptRefusesBadNames(t *testing.T) {
	for _, tc := range []struct{ ns, name string }{
		{"prod", "--kubeconfig=k8s/tools.yaml"},
		{"prod", "db\nx"},
		{"prod", "Db"},
		{"prod", "db."},
		{"prod", "a..b"},
		{"prod", "secret/db"},
		{"prod", strings.Repeat("a", 254)},
		{"--all-namespaces", "db"},
		{"prod.x", "db"},
		{"", "db"},
	} {
		t.Run(fmt.Sprintf("%q/%q", tc.ns, tc.name), func(t *testing.T) {
			dir := t.TempDir()
			log := fakeKubectl(t, dir)
			o := &importOpts{salt: "s", adopted: []adoptee{
				{namespace: "prod", name: "good", from: "sops", typ: "Opaque"},
				{namespace: tc.ns, name: tc.name, from: "sops", typ: "Opaque"},
			}}
			out, err := runScript(t, dir, o.adoptScript())
			if err == nil || !strings.Contains(out, "refusing to run") {
				t.Fatalf("ran: %v\n%s", err, out)
			}
			if b, _ := os.ReadFile(log); len(b) > 0 {
				t.Errorf("kubectl ran before the names were checked:\n%s", b)
			}
		})
	}
}

// TestAdoptScriptChecksContent: the script hands over only the Secret the
// import was made from: owned as expected, no Helm release record or
// token, the same type and data. Anything else: nothing is patched.
// Guards: each branch of check() in adoptPrologue.
func TestAdoptScriptChecksContent(t *testing.T) {
	data := map[string][]byte{"password": []byte("hunter2"), "user": []byte("app")}
	const salt = "0123"
	good := adoptee{namespace: "prod", name: "db", from: "sops", typ: "Opaque", digest: dataDigest(salt, data)}
	for _, tc := range []struct {
		name, live, want string
		a                adoptee
	}{
		{"another Secret of that name", liveState("", "Opaque", map[string][]byte{"password": []byte("other")}), "its data is not what the import decrypted", good},
		{"a value more", liveState("", "Opaque", map[string][]byte{"password": []byte("hunter2"), "user": []byte("app"), "x": nil}), "its data is not", good},
		{"another type", liveState("", "kubernetes.io/basic-auth", data), "of type kubernetes.io/basic-auth", good},
		{"a token", liveState("", "kubernetes.io/service-account-token", data), "a service account token", good},
		{"a Helm release record by type", liveState("", "helm.sh/release.v1", data), "a Helm release record", good},
		{"a Helm release record by name", liveState("", "Opaque", data), "a Helm release record",
			adoptee{namespace: "prod", name: "sh.helm.release.v1.db.v1", from: "sops", typ: "Opaque", digest: good.digest}},
		{"another owner", liveState("apps/v1/Deployment/x/true;", "Opaque", data), "owned by 'apps/v1/Deployment/x/true;'", good},
		{"not the bitnami owner", liveState("", "Opaque", data), "owned by 'nothing', the import expected 'bitnami.com/v1alpha1/SealedSecret/db/true;'",
			adoptee{namespace: "prod", name: "db", from: "sealed-secrets", typ: "Opaque", digest: good.digest}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			log := fakeKubectl(t, dir)
			if err := os.WriteFile(filepath.Join(dir, tc.a.name), []byte(tc.live), 0o600); err != nil {
				t.Fatal(err)
			}
			other := adoptee{namespace: "prod", name: "zz-fine", from: "sops", typ: "Opaque", digest: good.digest}
			if err := os.WriteFile(filepath.Join(dir, other.name), []byte(liveState("", "Opaque", data)), 0o600); err != nil {
				t.Fatal(err)
			}
			o := &importOpts{salt: salt, adopted: []adoptee{tc.a, other}}
			out, err := runScript(t, dir, o.adoptScript())
			if err == nil || !strings.Contains(out, "refused Secret prod/"+tc.a.name+": "+tc.want) || !strings.Contains(out, "nothing changed") {
				t.Fatalf("want refused (%s): %v\n%s", tc.want, err, out)
			}
			if b, _ := os.ReadFile(log); strings.Contains(string(b), "patch") {
				t.Errorf("patched although a check failed:\n%s", b)
			}
		})
	}
	t.Run("the Secret the import was made from", func(t *testing.T) {
		dir := t.TempDir()
		log := fakeKubectl(t, dir)
		if err := os.WriteFile(filepath.Join(dir, "db"), []byte(liveState("", "Opaque", data)), 0o600); err != nil {
			t.Fatal(err)
		}
		o := &importOpts{salt: salt, adopted: []adoptee{good}}
		if out, err := runScript(t, dir, o.adoptScript()); err != nil || !strings.Contains(out, "adopted Secret prod/db") {
			t.Fatalf("%v\n%s", err, out)
		}
		b, _ := os.ReadFile(log)
		calls := strings.Split(strings.TrimSuffix(string(b), "\n---\n"), "\n---\n")
		if len(calls) != 2 {
			t.Fatalf("want a get and a patch:\n%s", b)
		}
		for _, c := range calls {
			// kubectl's options end before the name.
			if !strings.HasSuffix(c, "|--|secret/db|") || !strings.Contains(c, "--namespace=prod|") {
				t.Errorf("call %q does not end its options before secret/db", c)
			}
		}
		if !strings.Contains(calls[1], `"uid":"uid-1","resourceVersion":"42"`) {
			t.Errorf("patch lacks the UID and resourceVersion preconditions: %s", calls[1])
		}
	})
}
