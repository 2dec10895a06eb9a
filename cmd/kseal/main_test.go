package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"kseal.dev/kseal/internal/kmstest"
)

var (
	awsKMS *kmstest.AWS
	gcpKMS *kmstest.GCP
	// gcpKMSTLS is the GCP server over TLS, for sops (see gcpTLS).
	gcpKMSTLS *kmstest.GCP
	gcpTLSCA  string
	// kmsBase holds each script's counters at its kmsreset, by $WORK.
	kmsBase sync.Map
)

const (
	awsKey = "arn:aws:kms:us-east-1:111122223333:key/11111111-2222-3333-4444-555555555555"
	// awsKeySops is import_sops's own key, so that its calls are not
	// counted by kms.txtar running at the same time.
	awsKeySops = "arn:aws:kms:us-east-1:111122223333:key/11111111-2222-3333-4444-666666666666"
	gcpKey     = "projects/kseal/locations/global/keyRings/ci/cryptoKeys/prod"
)

// TestMain runs the scripts' `kseal` in this test binary (testscript.Main puts
// a copy named kseal on PATH, as filippo.io/age does): the scripts, kustomize's
// KRM function and git's drivers exec it as a user would, while internal/cli
// counts in coverage and runs under the race detector.
func TestMain(m *testing.M) {
	// A link or copy of kseal named kubectl-kseal, run by kubectl as its
	// plugin (testscript.Main only knows the names it put on PATH).
	if filepath.Base(os.Args[0]) == "kubectl-kseal" {
		os.Exit(run())
	}
	testscript.Main(withKMS{m}, map[string]func(){"kseal": func() { os.Exit(run()) }})
}

// withKMS runs the tests next to fake AWS and GCP KMS servers; only the
// top-level test process starts them, not each `kseal` the scripts run.
type withKMS struct{ m *testing.M }

func (w withKMS) Run() int {
	var err error
	if awsKMS, err = kmstest.NewAWS(awsKey, awsKeySops); err != nil {
		panic(err)
	}
	defer awsKMS.Close()
	if gcpKMS, err = kmstest.NewGCP(gcpKey); err != nil {
		panic(err)
	}
	defer gcpKMS.Close()
	dir, err := os.MkdirTemp("", "kseal-kms-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	if gcpKMSTLS, gcpTLSCA, err = gcpTLS(gcpKey, dir); err != nil {
		panic(err)
	}
	defer gcpKMSTLS.Close()
	return w.m.Run()
}

// toolPath finds a real tool the scripts use: kubectl, sops and pre-commit
// from $KSEAL_KUBECTL, $KSEAL_SOPS and $KSEAL_PRE_COMMIT (hack/tools.sh),
// else on PATH (git, and pre-commit outside make test), or "".
func toolPath(name string) string {
	switch name {
	case "kubectl":
		return os.Getenv("KSEAL_KUBECTL")
	case "sops":
		return os.Getenv("KSEAL_SOPS")
	case "pre-commit":
		if p := os.Getenv("KSEAL_PRE_COMMIT"); p != "" {
			return p
		}
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return ""
	}
	return p
}

// TestScripts runs testdata/script/*.txtar; `kseal` is this test binary.
func TestScripts(t *testing.T) {
	if got, _ := filepath.Glob("testdata/script/*.txtar"); len(got) == 0 {
		t.Fatal("no scripts in testdata/script")
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"sealedsecretskey": sealedSecretsKey,
			// kmsfault aws|gcp none|deny|down: set the fault of the test key.
			"kmsfault": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 2 {
					ts.Fatalf("usage: kmsfault aws|gcp none|deny|down")
				}
				f := kmstest.Fault{Deny: args[1] == "deny", Down: args[1] == "down"}
				if args[0] == "aws" {
					awsKMS.SetFault(awsKey, f)
				} else {
					gcpKMS.SetFault(gcpKey, f)
				}
			},
			// validjson FILE: FILE holds one valid JSON value.
			"validjson": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 1 {
					ts.Fatalf("usage: validjson FILE")
				}
				var v any
				err := json.Unmarshal([]byte(ts.ReadFile(args[0])), &v)
				if (err == nil) == neg {
					ts.Fatalf("validjson %s: %v", args[0], err)
				}
			},
			// kmsreset: count this script's KMS calls from here on.
			// Scripts run in parallel on shared servers, so nothing is
			// zeroed: the counters are copied and kmscalls subtracts.
			"kmsreset": func(ts *testscript.TestScript, neg bool, args []string) {
				kmsBase.Store(ts.Getenv("WORK"), map[string]map[string]int{
					"aws": awsKMS.Counts(), "gcp": gcpKMS.Counts(), "gcptls": gcpKMSTLS.Counts(),
				})
			},
			// kmscalls aws|gcp|gcptls OP N: the server served N calls of
			// OP since the script's kmsreset; for aws, on the script's own
			// key ($AWS_KEY).
			"kmscalls": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 3 {
					ts.Fatalf("usage: kmscalls aws|gcp|gcptls OP N")
				}
				srv := map[string]interface{ Counts() map[string]int }{"aws": awsKMS, "gcp": gcpKMS, "gcptls": gcpKMSTLS}[args[0]]
				if srv == nil {
					ts.Fatalf("kmscalls: unknown server %q", args[0])
				}
				counter := args[1]
				if args[0] == "aws" {
					counter += " " + ts.Getenv("AWS_KEY")
				}
				var before int
				if b, ok := kmsBase.Load(ts.Getenv("WORK")); ok {
					before = b.(map[string]map[string]int)[args[0]][counter]
				}
				if got := strconv.Itoa(srv.Counts()[counter] - before); got != args[2] {
					ts.Fatalf("%s %s calls: %s, want %s", args[0], args[1], got, args[2])
				}
			},
		},
		// [tool:NAME]: the real tool NAME is at hand (kubectl from
		// $KSEAL_KUBECTL, git and pre-commit from PATH). Under CI=true a
		// missing tool fails the script instead of skipping it.
		Condition: func(cond string) (bool, error) {
			name, ok := strings.CutPrefix(cond, "tool:")
			if !ok {
				return false, fmt.Errorf("unknown condition %q", cond)
			}
			if toolPath(name) != "" {
				return true, nil
			}
			if os.Getenv("CI") == "true" {
				return false, fmt.Errorf("%s is not available under CI=true: run make test (hack/tools.sh)", name)
			}
			// What hack/tools.sh builds, a full run has: without it the
			// script would skip and the run still print ok.
			if (name == "kubectl" || name == "sops") && !testing.Short() {
				return false, fmt.Errorf("%s is not available: run make test (hack/tools.sh builds it), or go test -short", name)
			}
			return false, nil
		},
		Setup: func(e *testscript.Env) error {
			kseal, err := exec.LookPath("kseal") // testscript.Main put it first on PATH
			if err != nil {
				return err
			}
			e.Setenv("KSEAL_BIN", kseal)
			e.Setenv("KUBECTL", toolPath("kubectl"))
			e.Setenv("SOPS", toolPath("sops"))
			path := os.Getenv("PATH")
			// The real kustomize from hack/tools.sh, for the KRM function.
			if k := os.Getenv("KSEAL_KUSTOMIZE"); k != "" {
				path = filepath.Dir(k) + string(os.PathListSeparator) + path
			} else if !testing.Short() || os.Getenv("CI") == "true" {
				// A full run without it would skip the KRM function's
				// script and still print ok.
				return fmt.Errorf("KSEAL_KUSTOMIZE is not set: run make test (or go test -short, which skips the kustomize script)")
			}
			// The real tools the scripts call: helm (values sealed with
			// seal --raw) and the peers' binaries (kseal import).
			for _, tool := range []string{"KSEAL_HELM", "KSEAL_KUBESEAL", "KSEAL_SOPS"} {
				if p := os.Getenv(tool); p != "" {
					path = filepath.Dir(p) + string(os.PathListSeparator) + path
				} else if !testing.Short() || os.Getenv("CI") == "true" {
					return fmt.Errorf("%s is not set: run make test (hack/tools.sh builds it), or go test -short", tool)
				}
			}
			e.Setenv("PATH", path)
			e.Setenv("SOPS_MODULE", sopsModule())
			e.Setenv("KSEAL_NO_PROGRESS", "1")
			e.Setenv("XDG_CONFIG_HOME", filepath.Join(e.WorkDir, ".config"))
			for _, env := range []map[string]string{awsKMS.Env(), gcpKMS.Env(), {"AWS_KEY": awsKey, "AWS_KEY_SOPS": awsKeySops, "GCP_KEY": gcpKey, "GCP_TLS_ENDPOINT": gcpKMSTLS.Addr, "GCP_TLS_CA": gcpTLSCA}} {
				for k, v := range env {
					e.Setenv(k, v)
				}
			}
			examples, err := filepath.Abs(filepath.Join("..", "..", "examples"))
			if err != nil {
				return err
			}
			e.Setenv("EXAMPLES", examples)
			e.Setenv("EXAMPLE_KEY", filepath.Join(examples, "..", "testdata", "examples", "prod-cluster.key"))
			vectors, err := filepath.Abs(filepath.Join("..", "..", "testdata", "vectors"))
			e.Setenv("VECTORS", vectors)
			return err
		},
	})
}

// sopsModule is the source of the sops module $KSEAL_SOPS was built from,
// in the module cache: its own test fixtures (functional-tests/res) are
// real sops output. "" without the binary.
var sopsModule = sync.OnceValue(func() string {
	bin := os.Getenv("KSEAL_SOPS")
	if bin == "" {
		return ""
	}
	out, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		return ""
	}
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) >= 3 && f[0] == "mod" && f[1] == "github.com/getsops/sops/v3" {
			cache, err := exec.Command("go", "env", "GOMODCACHE").Output()
			if err != nil {
				return ""
			}
			return filepath.Join(strings.TrimSpace(string(cache)), "github.com", "getsops", "sops", "v3@"+f[2])
		}
	}
	return ""
})
