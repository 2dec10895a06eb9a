package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"kseal.dev/kseal/internal/kmstest"
)

var (
	awsKMS *kmstest.AWS
	gcpKMS *kmstest.GCP
)

const (
	awsKey = "arn:aws:kms:us-east-1:111122223333:key/11111111-2222-3333-4444-555555555555"
	gcpKey = "projects/kseal/locations/global/keyRings/ci/cryptoKeys/prod"
)

// TestMain runs the scripts' `kseal` in this test binary (testscript.Main puts
// a copy named kseal on PATH, as filippo.io/age does): the scripts, kustomize's
// KRM function and git's drivers exec it as a user would, while internal/cli
// counts in coverage and runs under the race detector.
func TestMain(m *testing.M) {
	testscript.Main(withKMS{m}, map[string]func(){"kseal": func() { os.Exit(run()) }})
}

// withKMS runs the tests next to fake AWS and GCP KMS servers; only the
// top-level test process starts them, not each `kseal` the scripts run.
type withKMS struct{ m *testing.M }

func (w withKMS) Run() int {
	var err error
	if awsKMS, err = kmstest.NewAWS(awsKey); err != nil {
		panic(err)
	}
	defer awsKMS.Close()
	if gcpKMS, err = kmstest.NewGCP(gcpKey); err != nil {
		panic(err)
	}
	defer gcpKMS.Close()
	return w.m.Run()
}

// TestScripts runs testdata/script/*.txtar; `kseal` is this test binary.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
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
			// kmsreset: zero both servers' call counters.
			"kmsreset": func(ts *testscript.TestScript, neg bool, args []string) {
				awsKMS.ResetCalls()
				gcpKMS.ResetCalls()
			},
			// kmscalls aws|gcp OP N: the server served N calls of OP so far.
			"kmscalls": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 3 {
					ts.Fatalf("usage: kmscalls aws|gcp OP N")
				}
				n := gcpKMS.Calls(args[1])
				if args[0] == "aws" {
					n = awsKMS.Calls(args[1])
				}
				if got := strconv.Itoa(n); got != args[2] {
					ts.Fatalf("%s %s calls: %s, want %s", args[0], args[1], got, args[2])
				}
			},
		},
		Setup: func(e *testscript.Env) error {
			path := os.Getenv("PATH") // testscript.Main put kseal first
			// The real kustomize from hack/tools.sh, for the KRM function.
			if k := os.Getenv("KSEAL_KUSTOMIZE"); k != "" {
				path = filepath.Dir(k) + string(os.PathListSeparator) + path
			} else if !testing.Short() || os.Getenv("CI") == "true" {
				// A full run without it would skip the KRM function's
				// script and still print ok.
				return fmt.Errorf("KSEAL_KUSTOMIZE is not set: run make test (or go test -short, which skips the kustomize script)")
			}
			e.Setenv("PATH", path)
			e.Setenv("KSEAL_NO_PROGRESS", "1")
			e.Setenv("XDG_CONFIG_HOME", filepath.Join(e.WorkDir, ".config"))
			for k, v := range map[string]string{
				"AWS_ENDPOINT_URL_KMS": awsKMS.URL, "AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret",
				"AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
				"KSEAL_GCP_KMS_ENDPOINT": gcpKMS.Addr, "KSEAL_GCP_KMS_INSECURE": "true",
				"AWS_KEY": awsKey, "GCP_KEY": gcpKey,
			} {
				e.Setenv(k, v)
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
