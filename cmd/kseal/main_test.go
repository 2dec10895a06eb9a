package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

var binDir string

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
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// TestScripts runs testdata/script/*.txtar against the built binary.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(e *testscript.Env) error {
			e.Setenv("PATH", binDir+string(os.PathListSeparator)+os.Getenv("PATH"))
			e.Setenv("KSEAL_NO_PROGRESS", "1")
			e.Setenv("XDG_CONFIG_HOME", filepath.Join(e.WorkDir, ".config"))
			vectors, err := filepath.Abs(filepath.Join("..", "..", "testdata", "vectors"))
			e.Setenv("VECTORS", vectors)
			return err
		},
	})
}
