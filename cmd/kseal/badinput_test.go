package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// kseal runs the built binary in dir and returns its exit code, standard
// output and standard error.
func kseal(t *testing.T, dir string, args ...string) (int, string, string) {
	return ksealAs(t, false, dir, args...)
}

// ksealAs runs kseal, as user nobody when unprivileged is set and the test
// runs as root (permissions do not stop root).
func ksealAs(t *testing.T, unprivileged bool, dir string, args ...string) (int, string, string) {
	t.Helper()
	bin := ksealBin(t)
	cmd := exec.Command(bin, args...)
	if unprivileged && os.Geteuid() == 0 {
		cmd = exec.Command("setpriv", append([]string{"--reuid=65534", "--regid=65534", "--clear-groups", bin}, args...)...)
	}
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "XDG_CONFIG_HOME=" + filepath.Join(dir, ".config"), "KSEAL_NO_PROGRESS=1", "KUBECONFIG=" + filepath.Join(dir, "no-kubeconfig")}
	if d := os.Getenv("GOCOVERDIR"); d != "" {
		cmd.Env = append(cmd.Env, "GOCOVERDIR="+d) // go test -cover: the run counts
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var x *exec.ExitError
	switch {
	case err == nil:
		return 0, out.String(), errb.String()
	case errors.As(err, &x):
		return x.ExitCode(), out.String(), errb.String()
	}
	t.Fatalf("kseal %v: %v", args, err)
	return 0, "", ""
}

// ksealBin is the kseal that testscript.Main put first on PATH: this test
// binary, which runs kseal's main under that name.
func ksealBin(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("kseal")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// snapshot hashes every file under dir (links by their target name).
func snapshot(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	m := map[string][32]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		var b []byte
		if d.Type()&fs.ModeSymlink != 0 {
			s, err := os.Readlink(p)
			if err != nil {
				return err
			}
			b = []byte("link:" + s)
		} else if d.Type().IsRegular() {
			if b, err = os.ReadFile(p); err != nil {
				b = []byte("unreadable")
			}
		}
		m[p] = sha256.Sum256(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

const badPlainSecret = "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: prod}\nstringData: {password: s3cr3t}\n"

// TestBadInput is the bad-input table of docs/cli.md: for each input, the
// exit code, an error naming file, document, object and field (and the
// line where YAML is broken), and nothing half-written: on failure no
// file under the work directory changed and standard output is empty.
func TestBadInput(t *testing.T) {
	base := t.TempDir()
	for _, k := range []string{"k", "other"} {
		code, out, errs := kseal(t, base, "keygen", "--x25519", "-o", k+".key")
		if code != 0 {
			t.Fatalf("keygen: %s", errs)
		}
		if err := os.WriteFile(filepath.Join(base, k+".pub"), []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(base, "plain.yaml"), []byte(badPlainSecret), 0o644); err != nil {
		t.Fatal(err)
	}
	code, sealed, errs := kseal(t, base, "seal", "--recipients-file", "k.pub", "plain.yaml")
	if code != 0 {
		t.Fatalf("seal: %s", errs)
	}
	key, _ := os.ReadFile(filepath.Join(base, "k.key"))
	pub, _ := os.ReadFile(filepath.Join(base, "k.pub"))
	other, _ := os.ReadFile(filepath.Join(base, "other.key"))
	// change replaces the first character after the match of re.
	change := func(re string) string {
		loc := regexp.MustCompile(re).FindStringIndex(sealed)
		if loc == nil {
			t.Fatalf("no %s in the sealed file", re)
		}
		c := byte('A')
		if sealed[loc[1]] == 'A' {
			c = 'B'
		}
		return sealed[:loc[1]] + string(c) + sealed[loc[1]+1:]
	}
	truncated := sealed[:strings.Index(sealed, "keyID:")]
	secret := func(body string) string {
		return "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: prod}\n" + body
	}
	rcpt := []string{"--recipients-file", "k.pub"}
	id := []string{"--identity", "k.key"}
	args := func(parts ...[]string) []string {
		var out []string
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}

	cases := []struct {
		name   string
		files  map[string]string
		setup  func(t *testing.T, dir string)
		args   []string
		code   int
		stderr string // regexp, must match when code != 0
		stdout string // regexp, must match when code == 0
		nobody bool   // run unprivileged (as user nobody when the test runs as root)
	}{
		{name: "empty file", files: map[string]string{"f.yaml": ""}, args: args([]string{"seal", "-i", "f.yaml"}, rcpt),
			code: 1, stderr: `^kseal: error: f.yaml: empty input: no documents`},
		{name: "non-YAML, with a line number", files: map[string]string{"a.yaml": badPlainSecret, "b.yaml": "apiVersion: v1\nkind: ConfigMap\n---\n" + secret("stringData:\n  x: [\n")},
			args: args([]string{"seal", "-i", "a.yaml", "b.yaml"}, rcpt), code: 1, stderr: `b.yaml: doc 2: invalid YAML: yaml: line \d+: did not find expected node content|b.yaml: doc 2: invalid YAML: yaml: line (8|9)`},
		{name: "bare YAML sequence", files: map[string]string{"s.yaml": "- apiVersion: v1\n  kind: Secret\n  metadata: {name: db, namespace: prod}\n  stringData: {a: b}\n"},
			args: args([]string{"seal", "s.yaml"}, rcpt), code: 0, stdout: `(?m)^- apiVersion: kseal.dev/v1alpha1\n  kind: SealedSecret`},
		{name: "kind List", files: map[string]string{"l.yaml": "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata: {name: db, namespace: prod}\n  stringData: {a: b}\n"},
			args: args([]string{"seal", "l.yaml"}, rcpt), code: 0, stdout: `(?s)kind: List.*kind: SealedSecret`},
		{name: "ConfigMap passes through", files: map[string]string{"c.yaml": "apiVersion: v1\nkind: ConfigMap  # as is\nmetadata: {name: c}\ndata: {a: b}\n"},
			args: args([]string{"seal", "c.yaml"}, rcpt), code: 0, stdout: `^apiVersion: v1\nkind: ConfigMap  # as is\nmetadata: \{name: c\}\ndata: \{a: b\}\n$`},
		{name: "Secret with no data", files: map[string]string{"n.yaml": secret("")}, args: args([]string{"seal", "-i", "n.yaml"}, rcpt),
			code: 1, stderr: `n.yaml: doc 1: Secret prod/db: no data: a Secret without values\nkseal: hint: add values, or pass --allow-empty-data`},
		{name: "no namespace", files: map[string]string{"n.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData: {a: b}\n"}, args: args([]string{"seal", "-i", "n.yaml"}, rcpt),
			code: 1, stderr: `n.yaml: doc 1: Secret db: metadata.namespace is missing; add it or pass -n`},
		{name: "no name", files: map[string]string{"n.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {namespace: prod}\nstringData: {a: b}\n"}, args: args([]string{"seal", "-i", "n.yaml"}, rcpt),
			code: 1, stderr: `n.yaml: doc 1: Secret prod/: metadata.name: missing`},
		{name: "a name the API server refuses", files: map[string]string{"n.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: --kubeconfig=k8s/tools.yaml\n  namespace: prod\nstringData: {a: b}\n"}, args: args([]string{"seal", "-i", "n.yaml"}, rcpt),
			code: 1, stderr: `n.yaml: doc 1: metadata.name: "--kubeconfig=k8s/tools.yaml" is not a name the API server accepts`},
		{name: "a tagged template value", files: map[string]string{"t.yaml": secret("type: !!binary a3ViZXJuZXRlcy5pby9zZXJ2aWNlLWFjY291bnQtdG9rZW4=\nstringData: {a: b}\n")}, args: args([]string{"seal", "-i", "t.yaml"}, rcpt),
			code: 1, stderr: `t.yaml: doc 1: Secret prod/db: type: written with the tag "!!binary", which kubectl's reader applies`},
		{name: "bad base64", files: map[string]string{"b.yaml": secret("data: {password: \"!!!\"}\n")}, args: args([]string{"seal", "-i", "b.yaml"}, rcpt),
			code: 1, stderr: `b.yaml: doc 1: Secret prod/db: data.password: not valid base64`},
		{name: "invalid key name", files: map[string]string{"k.yaml": secret("stringData: {\"bad key\": x}\n")}, args: args([]string{"seal", "-i", "k.yaml"}, rcpt),
			code: 1, stderr: `k.yaml: doc 1: Secret prod/db: data.bad key: invalid key "bad key"`},
		// The API server refuses these keys (a Secret volume keeps its own
		// files under such names): sealed, the Secret could never be made.
		{name: "a key the API server refuses", files: map[string]string{"k.yaml": secret("stringData: {..data: x}\n")}, args: args([]string{"seal", "-i", "k.yaml"}, rcpt),
			code: 1, stderr: `k.yaml: doc 1: Secret prod/db: data\.\.\.data: invalid key "\.\.data": must not be '\.' or '\.\.', nor start with '\.\.'`},
		{name: "a key the API server refuses (set)", files: map[string]string{"s.yaml": sealed}, args: args([]string{"set", "-f", "s.yaml", "..x=1"}, rcpt),
			code: 1, stderr: `s.yaml: doc 1: SealedSecret prod/db: data\.\.\.x: invalid key "\.\.x"`},
		{name: "a key the API server refuses (create)", args: args([]string{"create", "db", "-n", "prod", "--from-literal", ".=1"}, rcpt),
			code: 1, stderr: `--from-literal number 1: invalid key "\.": must not be '\.'`},
		{name: "duplicate keys", files: map[string]string{"d.yaml": secret("stringData: {x: a, x: b}\n")}, args: args([]string{"seal", "-i", "d.yaml"}, rcpt),
			code: 1, stderr: `d.yaml: doc 1: stringData.x: key given twice`},
		{name: "non-UTF-8", files: map[string]string{"u.yaml": secret("stringData: {x: \"\xff\xfe\"}\n")}, args: args([]string{"seal", "-i", "u.yaml"}, rcpt),
			code: 1, stderr: `u.yaml: doc 1: invalid YAML: yaml: .*UTF-8`},
		{name: "UTF-16 with BOM", files: map[string]string{"u.yaml": "\xff\xfea\x00:\x00 \x00b\x00\n\x00"}, args: args([]string{"seal", "-i", "u.yaml"}, rcpt),
			code: 1, stderr: `u.yaml: not UTF-8: UTF-16 text \(byte order mark\); convert it: iconv -f UTF-16 -t UTF-8`},
		{name: "CRLF", files: map[string]string{"c.yaml": strings.ReplaceAll(badPlainSecret, "\n", "\r\n")}, args: args([]string{"seal"}, rcpt, []string{"c.yaml"}),
			code: 0, stdout: `kind: SealedSecret`},
		// Cut mid-line, the YAML breaks (exit 1, with the line); cut at a
		// line end, the envelope is malformed (exit 3, whichever command).
		{name: "truncated sealed file, mid-line", files: map[string]string{"t.yaml": sealed[:300]}, args: args([]string{"rotate", "-i", "t.yaml"}, id, rcpt),
			code: 1, stderr: `t.yaml: doc 1: invalid YAML: yaml: line \d+: `},
		{name: "truncated sealed file", files: map[string]string{"t.yaml": truncated}, args: args([]string{"rotate", "-i", "t.yaml"}, id, rcpt),
			code: 3, stderr: `t.yaml: doc 1: SealedSecret prod/db: malformed envelope`},
		{name: "truncated sealed file (inspect)", files: map[string]string{"t.yaml": truncated}, args: []string{"inspect", "t.yaml"},
			code: 3, stderr: `t.yaml: doc 1: SealedSecret prod/db: malformed envelope`},
		{name: "truncated sealed file (set)", files: map[string]string{"t.yaml": truncated}, args: args([]string{"set", "-f", "t.yaml", "a=b"}, rcpt),
			code: 3, stderr: `t.yaml: .*doc 1: SealedSecret prod/db: malformed envelope`},
		{name: "truncated sealed file (verify)", files: map[string]string{"t.yaml": truncated}, args: []string{"verify", "--identity", "k.key", "t.yaml"},
			code: 3, stderr: `t.yaml: doc 1: SealedSecret prod/db: malformed envelope`},
		{name: "malformed envelope JSON (encrypted Secret)", files: map[string]string{"e.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: prod\n  annotations: {kseal.dev/envelope: \"{\"}\ndata: {a: AAAA}\n"},
			args: args([]string{"decrypt"}, id, []string{"e.yaml"}), code: 3, stderr: `e.yaml: doc 1: Secret prod/db: metadata.annotations\[kseal.dev/envelope\]: malformed envelope`},
		{name: "bad base64 in a sealed value", files: map[string]string{"v.yaml": regexp.MustCompile(`password: \S+`).ReplaceAllString(sealed, "password: '!!!'")},
			args: args([]string{"decrypt"}, id, []string{"v.yaml"}), code: 3, stderr: `v.yaml: doc 1: SealedSecret prod/db: spec.encryptedData.password: not valid base64`},
		{name: "one changed character in a value", files: map[string]string{"t.yaml": change(`password: A.`)}, args: args([]string{"rotate", "-i", "t.yaml"}, id, rcpt),
			code: 3, stderr: `t.yaml: doc 1: SealedSecret prod/db: integrity check failed`},
		{name: "one changed character in the mac", files: map[string]string{"t.yaml": change(`mac: `)}, args: args([]string{"verify"}, id, []string{"t.yaml"}),
			code: 3, stderr: `t.yaml: doc 1: SealedSecret prod/db: integrity check failed: section 0`},
		{name: "one changed character in a wrap", files: map[string]string{"t.yaml": change(`data: YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0\+IFgyNTUxOS.{8}`)}, args: args([]string{"decrypt"}, id, []string{"t.yaml"}),
			code: 3, stderr: `t.yaml: doc 1: SealedSecret prod/db: section 0: `},
		{name: "one changed character in a key ID", files: map[string]string{"t.yaml": change(`keyID: `)}, args: args([]string{"reencrypt", "-i", "t.yaml"}, id, rcpt),
			code: 3, stderr: `t.yaml: doc 1: SealedSecret prod/db: section 0: no identity matched any recipient`},
		{name: "wrong key", files: map[string]string{"s.yaml": sealed}, args: []string{"decrypt", "--identity", "other.key", "s.yaml"},
			code: 3, stderr: `s.yaml: doc 1: SealedSecret prod/db: section 0: no identity matched any recipient`},
		{name: "no key", files: map[string]string{"s.yaml": sealed}, args: []string{"decrypt", "s.yaml"},
			code: 3, stderr: `s.yaml: doc 1: SealedSecret prod/db: section 0: no identity matched any recipient`},
		{name: "public key as identity", files: map[string]string{"s.yaml": sealed}, args: []string{"decrypt", "--identity", "k.pub", "s.yaml"},
			code: 1, stderr: `--identity: k.pub:1: `},
		{name: "directory with no YAML", files: map[string]string{"d/readme.txt": "x"}, args: args([]string{"seal", "d"}, rcpt),
			code: 1, stderr: `d: no \*.yaml, \*.yml or \*.json files`},
		{name: "symlink loop under -R", files: map[string]string{"d/ok.yaml": badPlainSecret}, setup: func(t *testing.T, dir string) {
			os.Symlink("y.yaml", filepath.Join(dir, "d", "x.yaml"))
			os.Symlink("x.yaml", filepath.Join(dir, "d", "y.yaml"))
		}, args: args([]string{"seal", "-R", "-i", "d"}, rcpt), code: 1, stderr: `d/x.yaml: symbolic link that leads nowhere: .*too many links`},
		{name: "unreadable file", files: map[string]string{"u.yaml": badPlainSecret}, setup: func(t *testing.T, dir string) {
			os.Chmod(filepath.Join(dir, "u.yaml"), 0)
		}, args: args([]string{"seal", "-i", "u.yaml"}, rcpt), code: 1, stderr: `u.yaml: permission denied`, nobody: true},
		{name: "unwritable target with -i", files: map[string]string{"ro/u.yaml": badPlainSecret}, setup: func(t *testing.T, dir string) {
			os.Chmod(filepath.Join(dir, "ro"), 0o555)
			t.Cleanup(func() { os.Chmod(filepath.Join(dir, "ro"), 0o755) })
		}, args: args([]string{"seal", "-i", "ro/u.yaml"}, rcpt), code: 1, stderr: `ro/\.u\.yaml\.kseal-.*permission denied`, nobody: true},
		{name: "70 MB input", setup: func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, "big.yaml"), bytes.Repeat([]byte("#\n"), 35<<20), 0o644); err != nil {
				t.Fatal(err)
			}
		}, args: args([]string{"seal", "-i", "big.yaml"}, rcpt), code: 1, stderr: `big.yaml: larger than 67108864 bytes`},
		{name: "output kseal could not read back", setup: func(t *testing.T, dir string) {
			cm := append([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: "), bytes.Repeat([]byte("x"), 35<<20)...)
			cm = append(cm, "}\n"...)
			for _, f := range []string{"a.yaml", "b.yaml"} {
				if err := os.WriteFile(filepath.Join(dir, f), cm, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}, args: args([]string{"seal", "a.yaml", "b.yaml"}, rcpt), code: 1, stderr: `standard output: output larger than kseal reads back \(\d+ bytes; at most 67108864\): nothing written`},
		{name: "5 MB value", files: map[string]string{"v.yaml": secret("data:\n  v: " + strings.Repeat("AAAA", 5000000/3) + "\n")},
			args: args([]string{"seal", "-i", "v.yaml"}, rcpt), code: 1, stderr: `v.yaml: doc 1: Secret prod/db: data.v: value of 4999998 bytes; a Secret holds at most 1048576 bytes`},
		{name: "JSON file", files: map[string]string{"app.json": `{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "prod"}, "stringData": {"a": "b"}}` + "\n"},
			args: args([]string{"seal", "-i", "app.json"}, rcpt), code: 0},
		// Every other documented exit code, on its own paths.
		{name: "unknown command", args: []string{"nope"}, code: 2, stderr: `unknown command "nope"`},
		{name: "unknown subcommand of a group", args: []string{"policy", "nope"}, code: 2, stderr: `unknown command "nope" for "kseal policy"`},
		{name: "wrong argument count", args: []string{"create"}, code: 2, stderr: `accepts 1 arg\(s\), received 0`},
		{name: "too many arguments", args: []string{"version", "x"}, code: 2, stderr: `unknown command "x" for "kseal version"`},
		{name: "missing required flag", args: []string{"set", "a=b"}, code: 2, stderr: `required flag\(s\) "filename" not set`},
		{name: "unknown flag", args: []string{"seal", "--nope"}, code: 2, stderr: `unknown flag: --nope`},
		{name: "policy findings", setup: func(t *testing.T, dir string) {
			if out, err := exec.Command("cp", "-r", filepath.Join("..", "..", "examples", "gitops"), filepath.Join(dir, "repo")).CombinedOutput(); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if err := os.WriteFile(filepath.Join(dir, "repo", "apps", "orders", "plain.yaml"), []byte(badPlainSecret), 0o644); err != nil {
				t.Fatal(err)
			}
		}, args: []string{"policy", "check", "repo"}, code: 4, stderr: `kseal: error: 1 finding in \d+ files`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if c.nobody && os.Geteuid() == 0 {
				if _, err := exec.LookPath("setpriv"); err != nil {
					t.Fatalf("running as root, and no setpriv to drop privileges: %v", err)
				}
				// nobody must reach the binary and the work directory
				// (os.MkdirTemp and t.TempDir make them 0700).
				for d := filepath.Dir(ksealBin(t)); d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
					os.Chmod(d, 0o755)
				}
				for d := dir; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
					os.Chmod(d, 0o755)
				}
			}
			for name, body := range map[string][]byte{"k.key": key, "k.pub": pub, "other.key": other} {
				mode := os.FileMode(0o600)
				if name == "k.pub" {
					mode = 0o644
				}
				if err := os.WriteFile(filepath.Join(dir, name), body, mode); err != nil {
					t.Fatal(err)
				}
			}
			for name, body := range c.files {
				p := filepath.Join(dir, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if c.setup != nil {
				c.setup(t, dir)
			}
			before := snapshot(t, dir)
			code, out, errs := ksealAs(t, c.nobody, dir, c.args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d\nstderr: %s", code, c.code, errs)
			}
			if c.code == 0 {
				if c.stdout != "" && !regexp.MustCompile(c.stdout).MatchString(out) {
					t.Errorf("stdout does not match %q:\n%s", c.stdout, out)
				}
				if c.name == "JSON file" {
					var v map[string]any
					b, _ := os.ReadFile(filepath.Join(dir, "app.json"))
					if err := json.Unmarshal(b, &v); err != nil || v["kind"] != "SealedSecret" {
						t.Errorf("app.json after seal -i: %v, kind %v\n%s", err, v["kind"], b)
					}
				}
				return
			}
			if !regexp.MustCompile(c.stderr).MatchString(errs) {
				t.Errorf("stderr does not match %q:\n%s", c.stderr, errs)
			}
			if strings.Contains(errs, "s3cr3t") {
				t.Errorf("stderr holds the plaintext:\n%s", errs)
			}
			if out != "" && c.code != 4 { // policy check lists its findings on standard output
				t.Errorf("failed, yet wrote to standard output:\n%.300s", out)
			}
			after := snapshot(t, dir)
			for p, h := range after {
				if before[p] != h {
					t.Errorf("%s changed (or appeared) although kseal failed", p)
				}
			}
			for p := range before {
				if _, ok := after[p]; !ok {
					t.Errorf("%s disappeared although kseal failed", p)
				}
			}
		})
	}
}
