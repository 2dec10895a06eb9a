package main_test

import (
	"encoding/json"
	"fmt"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"kseal.dev/kseal/internal/envtestutil"
)

// What the Flux end-to-end test runs besides kseal: Flux's own
// source-controller and kustomize-controller and their CRDs, which
// hack/tools.sh builds from the module proxy, and git.
type fluxTools struct {
	sourceController, kustomizeController, crds, git string
}

// needFlux returns the Flux controllers and git, failing a full run that
// lacks them (envtestutil.Tool) and skipping, loudly, a -short one.
func needFlux(t *testing.T) fluxTools {
	t.Helper()
	ft := fluxTools{
		sourceController:    tool(t, "KSEAL_FLUX_SOURCE_CONTROLLER"),
		kustomizeController: tool(t, "KSEAL_FLUX_KUSTOMIZE_CONTROLLER"),
		crds:                tool(t, "KSEAL_FLUX_CRDS"),
	}
	for _, p := range []string{ft.sourceController, ft.kustomizeController, ft.crds} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%v: run hack/tools.sh flux", err)
		}
	}
	git, err := exec.LookPath("git")
	if err != nil {
		if os.Getenv("CI") == "true" || !testing.Short() {
			t.Fatalf("git is missing: %v", err)
		}
		t.Skipf("SKIP (no git): %v", err)
	}
	ft.git = git
	return ft
}

// installFluxCRDs installs the GitRepository and Kustomization CRDs (and
// the rest of Flux's source API) into env.
func installFluxCRDs(t *testing.T, env *envtest.Environment, dir string) {
	t.Helper()
	if _, err := envtest.InstallCRDs(env.Config, envtest.CRDInstallOptions{Paths: []string{dir}, ErrorIfPathMissing: true}); err != nil {
		t.Fatalf("installing Flux's CRDs: %v", err)
	}
}

// startFlux runs a Flux controller binary as a process against r's
// cluster, every port it opens on a free one, no leader election, all
// namespaces watched.
func (r *runner) startFlux(bin string, args ...string) *controllerProc {
	r.t.Helper()
	p := &controllerProc{log: &syncBuffer{}}
	args = append([]string{"--metrics-addr=" + freeAddr(r.t), "--health-addr=" + freeAddr(r.t),
		"--enable-leader-election=false", "--watch-all-namespaces=true", "--log-level=debug"}, args...)
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = append(os.Environ(), "KUBECONFIG="+r.kubeconfig)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	name := filepath.Base(bin)
	r.t.Cleanup(func() {
		p.stop()
		if r.t.Failed() {
			r.t.Logf("%s log (last 4 KiB):\n%s", name, tail(p.log.String(), 4096))
		}
	})
	return p
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// gitRepo is a repository the test commits to and serves over git's smart
// HTTP protocol (git http-backend behind net/http/cgi), as a git host
// serves the repository Flux fetches.
type gitRepo struct {
	t    *testing.T
	git  string
	env  []string
	work string // the clone commits are made in
	URL  string // what the GitRepository fetches
}

func serveGit(t *testing.T, git string) *gitRepo {
	t.Helper()
	root, home := t.TempDir(), t.TempDir()
	g := &gitRepo{t: t, git: git, work: t.TempDir(), env: append(os.Environ(), "HOME="+home, "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=kseal e2e", "GIT_AUTHOR_EMAIL=e2e@kseal.invalid", "GIT_COMMITTER_NAME=kseal e2e", "GIT_COMMITTER_EMAIL=e2e@kseal.invalid")}
	g.run(root, "init", "-q", "--bare", "--initial-branch=main", "apps.git")
	g.run(g.work, "init", "-q", "--initial-branch=main")
	g.run(g.work, "remote", "add", "origin", filepath.Join(root, "apps.git"))
	srv := httptest.NewServer(&cgi.Handler{Path: git, Args: []string{"http-backend"},
		Env: []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1", "HOME=" + home, "GIT_CONFIG_NOSYSTEM=1"}})
	t.Cleanup(srv.Close)
	g.URL = srv.URL + "/apps.git"
	return g
}

func (g *gitRepo) run(dir string, args ...string) string {
	g.t.Helper()
	cmd := exec.Command(g.git, args...)
	cmd.Dir, cmd.Env = dir, g.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		g.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// commit writes files (a path relative to the repository, and its content;
// no content deletes it), commits, pushes, and returns the revision as Flux
// names it (main@sha1:...).
func (g *gitRepo) commit(msg string, files map[string]string) string {
	g.t.Helper()
	for name, content := range files {
		p := filepath.Join(g.work, name)
		if content == "" {
			if err := os.Remove(p); err != nil {
				g.t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			g.t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			g.t.Fatal(err)
		}
	}
	g.run(g.work, "add", "-A")
	g.run(g.work, "commit", "-q", "-m", msg)
	g.run(g.work, "push", "-q", "origin", "main")
	return "main@sha1:" + g.run(g.work, "rev-parse", "HEAD")
}

// fluxObject is the part of a Flux object's (or a SealedSecret's) JSON the
// test reads.
type fluxObject struct {
	Metadata struct {
		Generation int64 `json:"generation"`
	} `json:"metadata"`
	Status struct {
		ObservedGeneration    int64              `json:"observedGeneration"`
		LastAppliedRevision   string             `json:"lastAppliedRevision"`
		LastAttemptedRevision string             `json:"lastAttemptedRevision"`
		Conditions            []metav1.Condition `json:"conditions"`
	} `json:"status"`
}

// ready returns the object's Ready condition, or an empty one.
func (o *fluxObject) ready() metav1.Condition { return o.condition("Ready") }

// condition returns the object's condition of type typ, or an empty one.
func (o *fluxObject) condition(typ string) metav1.Condition {
	if c := meta.FindStatusCondition(o.Status.Conditions, typ); c != nil {
		return *c
	}
	return metav1.Condition{}
}

// get reads kind ns/name.
func (r *runner) get(kind, ns, name string) (*fluxObject, error) {
	out, err := r.run(nil, "kubectl", "-n", ns, "get", kind, name, "-o", "json")
	if err != nil {
		return nil, err
	}
	o := &fluxObject{}
	return o, json.Unmarshal([]byte(out), o)
}

// fluxReconcile asks source-controller to fetch the repository now, as
// `flux reconcile source git` does, instead of at its next interval.
func (r *runner) fluxReconcile(kind, ns, name string) {
	r.t.Helper()
	r.must(nil, "kubectl", "-n", ns, "annotate", "--overwrite", kind, name,
		"reconcile.fluxcd.io/requestedAt="+time.Now().Format(time.RFC3339Nano))
}

// waitKustomization polls the Kustomization ns/name until check accepts
// it, for up to three minutes: a health check polls every five seconds,
// and the Kustomization waits for the source to fetch first.
func (r *runner) waitKustomization(what, ns, name string, check func(*fluxObject) error) *fluxObject {
	r.t.Helper()
	var o *fluxObject
	envtestutil.Eventually(r.t, what, 3*time.Minute, 250*time.Millisecond, func() (err error) {
		if o, err = r.get("kustomization", ns, name); err != nil {
			return err
		}
		if err := check(o); err != nil {
			c := o.ready()
			return fmt.Errorf("%w (Ready=%s %s: %s)", err, c.Status, c.Reason, c.Message)
		}
		return nil
	})
	return o
}

// readyAt accepts a Kustomization that applied revision and is Ready.
func readyAt(revision string) func(*fluxObject) error {
	return func(o *fluxObject) error {
		c := o.ready()
		if o.Status.ObservedGeneration != o.Metadata.Generation || o.Status.LastAppliedRevision != revision || c.Status != metav1.ConditionTrue {
			return fmt.Errorf("not Ready at %s (applied %s)", revision, o.Status.LastAppliedRevision)
		}
		return nil
	}
}
