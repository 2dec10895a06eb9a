package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ksealv1 "kseal.dev/kseal/api/v1alpha1"
	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/keys"
	"kseal.dev/kseal/pkg/keys/agekey"
	"kseal.dev/kseal/pkg/manifest"
)

// nonWriters are the commands that write no sealed, encrypted or opened
// Secret object, and why.
var nonWriters = map[string]string{
	"version":          "prints the version",
	"keygen":           "writes an identity",
	"fetch-recipients": "writes recipients",
	"inspect":          "prints a report",
	"verify":           "prints a report",
	"status":           "prints a report",
	"diff-view":        "prints values for git diff, never an object",
	"extract":          "prints one value",
	"exec-env":         "passes values as environment variables",
	"policy check":     "prints findings",
	"policy explain":   "prints a report",
	"policy render":    "prints cloud and Vault policies",
}

// coveredElsewhere are writers that need a cluster, and the test that
// feeds them last-applied copies without one.
var coveredElsewhere = map[string]string{
	"keys backup": "TestBackupKeys",
}

// TestEveryWriterIsListed: every command either writes no Secret object,
// or is fed last-applied copies by strip_writers.txtar (or the test named
// in coveredElsewhere). A new command fails this test until it is listed
// in one place or the other.
func TestEveryWriterIsListed(t *testing.T) {
	script, err := os.ReadFile(filepath.Join("..", "..", "cmd", "kseal", "testdata", "script", "strip_writers.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^# writer: ([^(\n]+)`).FindAllStringSubmatch(string(script), -1) {
		for _, w := range strings.Split(m[1], ", ") {
			listed[strings.TrimSpace(w)] = true
		}
	}
	for w := range coveredElsewhere {
		listed[w] = true
	}
	var walk func(c *cobra.Command, path []string)
	found := map[string]bool{}
	walk = func(c *cobra.Command, path []string) {
		for _, sub := range c.Commands() {
			p := append(slices.Clone(path), sub.Name())
			if sub.Runnable() && !sub.HasSubCommands() {
				name := strings.Join(p, " ")
				found[name] = true
				_, quiet := nonWriters[name]
				switch {
				case quiet && listed[name]:
					t.Errorf("%s is listed both as a writer and as writing no object", name)
				case !quiet && !listed[name]:
					t.Errorf("command %q is not in strip_writers.txtar (a '# writer: %s' case feeding it last-applied copies) nor in nonWriters: say which", name, name)
				}
			}
			walk(sub, p)
		}
	}
	walk(newRoot(&env{ctx: context.Background(), getenv: os.Getenv}), nil)
	for name := range listed {
		if !found[strings.TrimSuffix(name, " --raw")] {
			t.Errorf("strip_writers.txtar lists %q, which is no command", name)
		}
	}
	for name := range nonWriters {
		if !found[name] {
			t.Errorf("nonWriters lists %q, which is no command", name)
		}
	}
}

// TestBackupKeys: a backup holds a key Secret's name, namespace, kseal's
// own labels and annotations and its encrypted data, nothing else it
// carried in the cluster: not the last-applied copies (the private key in
// clear), nor other metadata. Guard: ksealOwn in backupKeys, then the
// pipeline's strip.
func TestBackupKeys(t *testing.T) {
	ck, err := agekey.Generate(true)
	if err != nil {
		t.Fatal(err)
	}
	offline, err := agekey.Generate(true)
	if err != nil {
		t.Fatal(err)
	}
	secret := corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name: "kseal-key-1", Namespace: "kseal-system", UID: "6c1c1b1e", ResourceVersion: "42",
			Labels: map[string]string{ksealv1.LabelManaged: ksealv1.ManagedClusterKey, "team": "infra"},
			Annotations: map[string]string{
				"kseal.dev/created": "2026-12-01T00:00:00Z",
				"kubectl.kubernetes.io/last-applied-configuration": `{"stringData":{"identity":"` + ck.SecretString() + `"}}`,
				"kubecfg.ksonnet.io/last-applied-configuration":    ck.SecretString(),
				"note": "hunter2",
			},
		},
		Type: corev1.SecretTypeOpaque,
		// What the controller writes: the identity and its recipient.
		Data: map[string][]byte{ksealv1.ClusterKeyField: []byte(ck.SecretString()), ksealv1.ClusterRecipientField: []byte(ck.Recipient())},
	}
	var errb bytes.Buffer
	e := &env{ctx: context.Background(), stderr: &errb, getenv: func(string) string { return "" }}
	target := &recipientSource{noPolicy: true, rcpt: recipientFlags{recipients: []string{offline.Recipient()}}}
	out, ids, err := backupKeys(e, target, []corev1.Secret{secret})
	if err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{"AGE-SECRET-KEY", "last-applied", "hunter2", "team", "6c1c1b1e", "resourceVersion"} {
		if bytes.Contains(out, []byte(leak)) {
			t.Errorf("the backup holds %q:\n%s", leak, out)
		}
	}
	r, _ := ck.OwnRecipient()
	if !slices.Equal(ids, []string{r.KeyID()}) {
		t.Errorf("key IDs %v, want %s", ids, r.KeyID())
	}
	// It restores to the key Secret, with kseal's own metadata only.
	strm, err := manifest.Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	in := &input{name: "backup.yaml", strm: strm}
	if err := restoreKeys(e, in, []keys.Identity{offline}, ids); err != nil {
		t.Fatal(err)
	}
	plain, err := strm.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"kseal.dev/managed: cluster-key", "kseal.dev/created:", "name: kseal-key-1", "namespace: kseal-system"} {
		if !bytes.Contains(plain, []byte(want)) {
			t.Errorf("restored Secret lacks %q:\n%s", want, plain)
		}
	}
}

// TestRestoreRefusesWhatTheKeyDidNotWrite: a backup can be sealed, or
// added to, with its public recipient alone. restore takes only cluster
// keys sealed whole that hold exactly the keys expected. Guards: the
// section count, the template check, the expected key IDs both ways.
func TestRestoreRefusesWhatTheKeyDidNotWrite(t *testing.T) {
	offline, _ := agekey.Generate(false)
	ck, _ := agekey.Generate(false)
	other, _ := agekey.Generate(false)
	ckID := keyID(t, ck)
	e := &env{ctx: context.Background(), stderr: &bytes.Buffer{}, getenv: func(string) string { return "" }}
	orc, _ := offline.OwnRecipient()
	rcpt := []keys.Recipient{orc}
	sealData := func(data map[string][]byte, tmpl crypto.Template, also func(*crypto.Sealed, crypto.Target)) []byte {
		t.Helper()
		target := crypto.Target{Namespace: "kseal-system", Name: "kseal-key-1", Template: tmpl}
		s, err := crypto.Seal(e.ctx, rand.Reader, crypto.ScopeStrict, target, data, rcpt)
		if err != nil {
			t.Fatal(err)
		}
		if also != nil {
			also(s, target)
		}
		text, err := manifest.SecretText(target, "", map[string][]byte{ksealv1.ClusterKeyField: []byte("x")})
		if err != nil {
			t.Fatal(err)
		}
		strm, err := manifest.Parse([]byte(text))
		if err != nil {
			t.Fatal(err)
		}
		if err := strm.Docs[0].ToEncrypted(s); err != nil {
			t.Fatal(err)
		}
		b, err := strm.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	keyData := func(id *agekey.Identity, recipient string) map[string][]byte {
		return map[string][]byte{ksealv1.ClusterKeyField: []byte(id.SecretString()), ksealv1.ClusterRecipientField: []byte(recipient)}
	}
	seal := func(id *agekey.Identity, tmpl crypto.Template, also func(*crypto.Sealed, crypto.Target)) []byte {
		t.Helper()
		return sealData(keyData(id, id.Recipient()), tmpl, also)
	}
	own := crypto.Template{Labels: map[string]string{ksealv1.LabelManaged: ksealv1.ManagedClusterKey}}
	withField := keyData(ck, ck.Recipient())
	withField["extra"] = []byte("x")
	for _, tc := range []struct {
		name, want string
		backup     []byte
		expect     []string
	}{
		{"a key nobody expects (a backup sealed anew)", "not one you expect", seal(other, own, nil), []string{ckID}},
		{"a section added with the public key", "2 sections", seal(ck, own, func(s *crypto.Sealed, tg crypto.Target) {
			if err := s.Set(e.ctx, rand.Reader, tg, map[string][]byte{"extra": []byte("x")}, rcpt); err != nil {
				t.Fatal(err)
			}
		}), []string{ckID}},
		{"not a cluster key", "not a cluster key", seal(ck, crypto.Template{Labels: map[string]string{"app": "x"}}, nil), []string{ckID}},
		{"a foreign annotation", "not a cluster key", seal(ck, crypto.Template{Labels: own.Labels, Annotations: map[string]string{"note": "x"}}, nil), []string{ckID}},
		{"an expected key missing", "lacks key", seal(ck, own, nil), []string{ckID, keyID(t, other)}},
		{"a recipient that is not the identity's", "not the recipient", sealData(keyData(ck, other.Recipient()), own, nil), []string{ckID}},
		{"a field a cluster key does not have", "not a cluster key field", sealData(withField, own, nil), []string{ckID}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			strm, err := manifest.Parse(tc.backup)
			if err != nil {
				t.Fatal(err)
			}
			err = restoreKeys(e, &input{name: "b.yaml", strm: strm}, []keys.Identity{offline}, tc.expect)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

func keyID(t *testing.T, id *agekey.Identity) string {
	t.Helper()
	r, err := id.OwnRecipient()
	if err != nil {
		t.Fatal(err)
	}
	return r.KeyID()
}

// TestTemplateCopiesFromBeforeThePipeline: objects sealed before every
// writer went through the pipeline (kseal import kept kubectl's
// last-applied copy in the template) still open; whatever prints their
// plain Secret leaves the copy out, and edit and rotate, which hold a key
// and seal again, drop it from the template. Guards: ToPlain's drop list,
// templateFor in rotate, preparePlain in edit.
func TestTemplateCopiesFromBeforeThePipeline(t *testing.T) {
	dir := t.TempDir()
	id, _ := agekey.Generate(true)
	rc, _ := id.OwnRecipient()
	keyFile := filepath.Join(dir, "k.key")
	if err := os.WriteFile(keyFile, []byte(id.SecretString()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KSEAL_AGE_KEY_FILE", keyFile)
	t.Setenv("KSEAL_NO_PROGRESS", "1")
	tmpl := crypto.Template{Annotations: map[string]string{
		"kubectl.kubernetes.io/last-applied-configuration": `{"stringData":{"password":"hunter2"}}`,
		"keep": "me",
	}}
	target := crypto.Target{Namespace: "prod", Name: "db", Template: tmpl}
	s, err := crypto.Seal(context.Background(), rand.Reader, crypto.ScopeStrict, target, map[string][]byte{"password": []byte("new")}, []keys.Recipient{rc})
	if err != nil {
		t.Fatal(err)
	}
	text, _ := manifest.SecretText(target, "", map[string][]byte{"password": []byte("x")})
	strm, _ := manifest.Parse([]byte(text))
	if err := strm.Docs[0].ToSealedSecret(s); err != nil {
		t.Fatal(err)
	}
	old, _ := strm.Bytes()
	file := filepath.Join(dir, "old.yaml")
	write := func() {
		if err := os.WriteFile(file, old, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	editor := filepath.Join(dir, "editor.sh")
	if err := os.WriteFile(editor, []byte("#!/bin/sh\nprintf '  extra: x\\n' >> \"$1\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("EDITOR", editor)
	for _, args := range [][]string{
		{"decrypt", file},
		{"exec-file", file, "--", "cat", "{}"},
		{"rotate", "--no-policy", "-r", rc.(*agekey.Recipient).String(), file},
		{"edit", "--no-policy", "-r", rc.(*agekey.Recipient).String(), file},
	} {
		t.Run(args[0], func(t *testing.T) {
			write()
			code, out, stderr := runMain(args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if args[0] == "edit" {
				b, _ := os.ReadFile(file)
				out = string(b)
			}
			if strings.Contains(out, "last-applied") || strings.Contains(out, "hunter2") {
				t.Errorf("%s writes the template's last-applied copy:\n%s", args[0], out)
			}
			if !strings.Contains(out, "keep") {
				t.Errorf("%s lost the other annotation:\n%s", args[0], out)
			}
		})
	}
}
