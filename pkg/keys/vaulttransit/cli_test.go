package vaulttransit

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"kseal.dev/kseal/internal/vaulttest"
)

var ksealBin struct {
	once sync.Once
	dir  string
	err  error
	out  []byte
}

// TestCLI runs testdata/script/*.txtar: the real kseal binary (built from
// cmd/kseal) and the real vault CLI against the dev server.
func TestCLI(t *testing.T) {
	vaulttest.Require(t, vault)
	ksealBin.once.Do(func() {
		ksealBin.dir, ksealBin.err = os.MkdirTemp("", "kseal-vault-cli-")
		if ksealBin.err == nil {
			ksealBin.out, ksealBin.err = exec.Command("go", "build", "-o", filepath.Join(ksealBin.dir, "kseal"), "kseal.dev/kseal/cmd/kseal").CombinedOutput()
		}
	})
	if ksealBin.err != nil {
		t.Fatalf("building kseal: %v\n%s", ksealBin.err, ksealBin.out)
	}
	t.Cleanup(func() { os.RemoveAll(ksealBin.dir) })
	bin, _ := vaulttest.Binary()
	// Scripts run in parallel: the one that seals Vault gets a server of
	// its own.
	sealable, err := vaulttest.Start(bin)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sealable.Close)
	if err := sealable.EnableTransit(mount, "orders"); err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// vaultctl seal|unseal: seal or unseal the sealable server.
			"vaultctl": func(ts *testscript.TestScript, neg bool, args []string) {
				var err error
				switch strings.Join(args, " ") {
				case "seal":
					err = sealable.Seal()
				case "unseal":
					err = sealable.Unseal()
				default:
					ts.Fatalf("usage: vaultctl seal|unseal")
				}
				ts.Check(err)
			},
		},
		Setup: func(e *testscript.Env) error {
			e.Setenv("PATH", ksealBin.dir+string(os.PathListSeparator)+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"))
			e.Setenv("KSEAL_NO_PROGRESS", "1")
			e.Setenv("XDG_CONFIG_HOME", filepath.Join(e.WorkDir, ".config"))
			e.Setenv("VAULT_ADDR", vault.Addr)
			e.Setenv("VAULT_TOKEN", vaulttest.RootToken)
			e.Setenv("ROOT_TOKEN", vaulttest.RootToken)
			e.Setenv("ORDERS_KEY", "vault:"+vault.KeyURL(mount, "orders"))
			e.Setenv("PAYMENTS_KEY", "vault:"+vault.KeyURL(mount, "payments"))
			e.Setenv("SEALABLE_ADDR", sealable.Addr)
			e.Setenv("SEALABLE_KEY", "vault:"+sealable.KeyURL(mount, "orders"))
			return nil
		},
	})
}
