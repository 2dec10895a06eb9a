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

// TestPolicyCheckInvalidPolicy: a kseal.yaml that does not load is a
// finding (exit 4) in both forms: the JSON report carries the policy's
// errors in policyError and no findings, the text form prints them.
func TestPolicyCheckInvalidPolicy(t *testing.T) {
	dir := t.TempDir()
	bad := "apiVersion: kseal.dev/v1alpha1\nkind: Policy\nkeys:\n  k: {age: not-a-recipient}\n"
	if err := os.WriteFile(filepath.Join(dir, "kseal.yaml"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runMain("policy", "check", "-o", "json", "--policy", filepath.Join(dir, "kseal.yaml"), dir)
	var r policyReport
	if code != ExitFindings || json.Unmarshal([]byte(out), &r) != nil || r.PolicyError == "" || r.Findings == nil || len(r.Findings) != 0 {
		t.Fatalf("policy check -o json: exit %d, report %q, stderr %q", code, out, errs)
	}
	code, text, errs := runMain("policy", "check", "--policy", filepath.Join(dir, "kseal.yaml"), dir)
	if code != ExitFindings || strings.TrimSpace(text) != r.PolicyError || !strings.Contains(errs, "the policy itself is invalid") {
		t.Fatalf("policy check: exit %d, stdout %q (want %q), stderr %q", code, text, r.PolicyError, errs)
	}
}
