package main_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"kseal.dev/kseal/internal/kmstest"
)

var (
	binDir string
	awsKMS *kmstest.AWS
	gcpKMS *kmstest.GCP
	// gcpKMSTLS is the GCP server over TLS, for sops (see gcpTLS).
	gcpKMSTLS *kmstest.GCP
	gcpTLSCA  string
)

const (
	awsKey = "arn:aws:kms:us-east-1:111122223333:key/11111111-2222-3333-4444-555555555555"
	gcpKey = "projects/kseal/locations/global/keyRings/ci/cryptoKeys/prod"
)

// TestMain builds the real kseal binary once; the scripts run it as a user
// would.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kseal-bin-")
	if err != nil {
		panic(err)
	}
	out, err := exec.Command("go", "build", "-o", filepath.Join(dir, "kseal"), ".").CombinedOutput()
	if err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	binDir = dir
	if awsKMS, err = kmstest.NewAWS(awsKey); err != nil {
		panic(err)
	}
	if gcpKMS, err = kmstest.NewGCP(gcpKey); err != nil {
		panic(err)
	}
	if gcpKMSTLS, gcpTLSCA, err = gcpTLS(gcpKey); err != nil {
		panic(err)
	}
	code := m.Run()
	awsKMS.Close()
	gcpKMS.Close()
	gcpKMSTLS.Close()
	os.RemoveAll(dir)
	os.Exit(code)
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

// TestScripts runs testdata/script/*.txtar against the built binary.
func TestScripts(t *testing.T) {
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
			// kmsreset: zero both servers' call counters.
			"kmsreset": func(ts *testscript.TestScript, neg bool, args []string) {
				awsKMS.ResetCalls()
				gcpKMS.ResetCalls()
				gcpKMSTLS.ResetCalls()
			},
			// kmscalls aws|gcp|gcptls OP N: the server served N calls of OP so far.
			"kmscalls": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 3 {
					ts.Fatalf("usage: kmscalls aws|gcp OP N")
				}
				n := gcpKMS.Calls(args[1])
				switch args[0] {
				case "aws":
					n = awsKMS.Calls(args[1])
				case "gcptls":
					n = gcpKMSTLS.Calls(args[1])
				}
				if got := strconv.Itoa(n); got != args[2] {
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
			return false, nil
		},
		Setup: func(e *testscript.Env) error {
			e.Setenv("KSEAL_BIN", filepath.Join(binDir, "kseal"))
			e.Setenv("KUBECTL", toolPath("kubectl"))
			e.Setenv("SOPS", toolPath("sops"))
			path := binDir + string(os.PathListSeparator) + os.Getenv("PATH")
			// The real kustomize from hack/tools.sh, for the KRM function.
			if k := os.Getenv("KSEAL_KUSTOMIZE"); k != "" {
				path = filepath.Dir(k) + string(os.PathListSeparator) + path
			} else if os.Getenv("CI") == "true" {
				return fmt.Errorf("KSEAL_KUSTOMIZE is not set under CI=true: run make test")
			}
			// The real tools the scripts call: helm (values sealed with
			// seal --raw) and the peers' binaries (kseal import).
			for _, tool := range []string{"KSEAL_HELM", "KSEAL_KUBESEAL", "KSEAL_SOPS"} {
				if p := os.Getenv(tool); p != "" {
					path = filepath.Dir(p) + string(os.PathListSeparator) + path
				} else if os.Getenv("CI") == "true" {
					return fmt.Errorf("%s is not set under CI=true: run make test", tool)
				}
			}
			e.Setenv("PATH", path)
			e.Setenv("KSEAL_NO_PROGRESS", "1")
			e.Setenv("XDG_CONFIG_HOME", filepath.Join(e.WorkDir, ".config"))
			for _, env := range []map[string]string{awsKMS.Env(), gcpKMS.Env(), {"AWS_KEY": awsKey, "GCP_KEY": gcpKey, "GCP_TLS_ENDPOINT": gcpKMSTLS.Addr, "GCP_TLS_CA": gcpTLSCA}} {
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
