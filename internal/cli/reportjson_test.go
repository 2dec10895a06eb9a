package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReportJSON: policy check -o json and verify -o json print the
// documented JSON (docs/cli.md) for CI, with the exit status of the text
// form; another format is a usage error.
//
// Guard: reportFormat.json and writePolicyReport.
func TestReportJSON(t *testing.T) {
	dir := t.TempDir()
	plain := "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: prod}\nstringData: {password: hunter2}\n"
	if err := os.WriteFile(filepath.Join(dir, "db.yaml"), []byte(plain), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runMain("policy", "check", "-o", "json", dir)
	if code != ExitFindings {
		t.Fatalf("policy check: exit %d, stderr %q", code, errs)
	}
	var r policyReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("policy check -o json: %v:\n%s", err, out)
	}
	if len(r.Findings) != 1 || r.Files != 1 || !strings.HasSuffix(r.Findings[0].File, "db.yaml") || r.Findings[0].Line < 1 || r.Findings[0].Message == "" {
		t.Fatalf("policy check -o json: %+v", r)
	}
	if strings.Contains(out, "hunter2") {
		t.Fatal("plaintext in the report")
	}

	code, out, errs = runMain("verify", "-o", "json", filepath.Join(dir, "db.yaml"))
	if code != ExitOK {
		t.Fatalf("verify: exit %d, stderr %q", code, errs)
	}
	var v []docInfo
	if err := json.Unmarshal([]byte(out), &v); err != nil || v == nil {
		t.Fatalf("verify -o json: %v:\n%s", err, out)
	}
	if !strings.Contains(errs, "verified 0 objects in 1 file; 1 file held no sealed object") {
		t.Fatalf("verify: no summary in %q", errs)
	}

	for _, args := range [][]string{{"verify", "-o", "yaml"}, {"policy", "check", "-o", "xml", dir}} {
		if code, _, errs := runMain(args...); code != ExitUsage || !strings.Contains(errs, "want text or json") {
			t.Fatalf("%v: exit %d, %q", args, code, errs)
		}
	}
}
