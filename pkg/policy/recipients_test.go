package policy_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"kseal.dev/kseal/pkg/policy"
)

const testRecipient = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"

// TestRecipientsFileIsARegularFileInside: a git writer chooses a cluster's
// recipientsFile, so it is read only if it is a regular file inside the
// repository (the directory holding kseal.yaml and below, links resolved)
// and at most policy.MaxRecipientsFile bytes. A link to /dev/zero used to
// make policy check read forever. The error names the policy file and
// line, the field and the path.
//
// Guards (in readRecipientsFile): the outside-the-repository check, the
// regular-file check, the size cap.
func TestRecipientsFileIsARegularFileInside(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, repo, outside string) // repo holds kseal.yaml
		file  string                                   // the recipientsFile
		want  string                                   // error, "" to accept
	}{
		{"a file in the repository", func(t *testing.T, repo, _ string) {
			write(t, filepath.Join(repo, "keys", "prod.pub"), testRecipient+"\n")
		}, "keys/prod.pub", ""},
		{"a link to a file in the repository", func(t *testing.T, repo, _ string) {
			write(t, filepath.Join(repo, "real.pub"), testRecipient+"\n")
			link(t, "../real.pub", filepath.Join(repo, "keys", "prod.pub"))
		}, "keys/prod.pub", ""},
		{"a link to /dev/zero", func(t *testing.T, repo, _ string) { link(t, "/dev/zero", filepath.Join(repo, "prod.pub")) }, "prod.pub",
			`clusters.prod.recipientsFile "prod.pub": leads to /dev/zero, outside the repository`},
		{"a link out of the repository to a regular file", func(t *testing.T, repo, outside string) {
			write(t, filepath.Join(outside, "x.pub"), testRecipient+"\n")
			link(t, filepath.Join(outside, "x.pub"), filepath.Join(repo, "prod.pub"))
		}, "prod.pub", `clusters.prod.recipientsFile "prod.pub": leads to `},
		{"a path up and out", func(t *testing.T, _, outside string) { write(t, filepath.Join(outside, "x.pub"), testRecipient+"\n") }, "../outside/x.pub",
			`clusters.prod.recipientsFile "../outside/x.pub": leads to `},
		{"a FIFO in the repository", func(t *testing.T, repo, _ string) {
			if err := syscall.Mkfifo(filepath.Join(repo, "prod.pub"), 0o644); err != nil {
				t.Skip("no FIFOs here:", err)
			}
		}, "prod.pub", `clusters.prod.recipientsFile "prod.pub": ` + "REPO/prod.pub is not a regular file"},
		{"a directory in the repository", func(t *testing.T, repo, _ string) { mkdir(t, filepath.Join(repo, "prod.pub")) }, "prod.pub",
			"REPO/prod.pub is not a regular file"},
		{"larger than the cap", func(t *testing.T, repo, _ string) {
			write(t, filepath.Join(repo, "prod.pub"), testRecipient+"\n"+strings.Repeat("#", policy.MaxRecipientsFile))
		}, "prod.pub", `clusters.prod.recipientsFile "prod.pub": larger than 1048576 bytes`},
		{"missing", func(*testing.T, string, string) {}, "prod.pub", `clusters.prod.recipientsFile "prod.pub": lstat REPO/prod.pub: no such file`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			// The repository is reached through a link: inside means
			// inside its real directory.
			realRepo, outside := filepath.Join(dir, "repo"), filepath.Join(dir, "outside")
			mkdir(t, realRepo)
			mkdir(t, outside)
			realRepo, err := filepath.EvalSymlinks(realRepo) // TMPDIR may itself be a link
			if err != nil {
				t.Fatal(err)
			}
			repo := filepath.Join(dir, "via-link")
			link(t, realRepo, repo)
			tc.setup(t, realRepo, outside)
			text := "apiVersion: kseal.dev/v1alpha1\nkind: Policy\nclusters:\n  prod:\n    recipientsFile: " + tc.file + "\nkeys:\n  c: {cluster: prod}\n"
			p, err := policy.Parse([]byte(text), filepath.Join(repo, "kseal.yaml"))
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if cur, _ := p.KeyIDs("c"); cur == "" {
					t.Errorf("no recipients read")
				}
				return
			}
			want := strings.ReplaceAll(tc.want, "REPO", realRepo)
			if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), filepath.Join(repo, "kseal.yaml")+":5: ") {
				t.Fatalf("got %v\nwant %s:5: …%s", err, filepath.Join(repo, "kseal.yaml"), want)
			}
		})
	}
}

func write(t *testing.T, path, text string) {
	t.Helper()
	mkdir(t, filepath.Dir(path))
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

func link(t *testing.T, target, path string) {
	t.Helper()
	mkdir(t, filepath.Dir(path))
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
}
