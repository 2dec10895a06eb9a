package app_test

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"kseal.dev/kseal/cmd/kseal-controller/app"
)

// TestFlagsDocumented keeps docs/controller.md's flag table in step with the
// flags: every flag has a row, every row names a flag, and the row's default
// column states the flag's default.
func TestFlagsDocumented(t *testing.T) {
	t.Setenv("KSEAL_NAMESPACE", "")
	fs := flag.NewFlagSet("kseal-controller", flag.ContinueOnError)
	var o app.Options
	o.BindFlags(fs)

	b, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "controller.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := flagRows(t, string(b))
	for name := range rows {
		if fs.Lookup(name) == nil {
			t.Errorf("docs/controller.md documents --%s, which kseal-controller does not have", name)
		}
	}
	fs.VisitAll(func(f *flag.Flag) {
		def, ok := rows[f.Name]
		if !ok {
			t.Errorf("--%s is not in docs/controller.md's flag table", f.Name)
			return
		}
		if want := shownDefault(f); want != "" && !strings.Contains(def, want) {
			t.Errorf("docs/controller.md: --%s defaults to %q, the table says %q", f.Name, want, def)
		}
	})
}

// flagRows returns the default column of each flag named in the first
// column of the table under "## Flags".
func flagRows(t *testing.T, doc string) map[string]string {
	t.Helper()
	_, sec, ok := strings.Cut(doc, "\n## Flags\n")
	if !ok {
		t.Fatal(`docs/controller.md has no "## Flags" section`)
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	name := regexp.MustCompile("`--([a-z0-9-]+)`")
	rows := map[string]string{}
	for line := range strings.Lines(sec) {
		cols := strings.Split(line, "|")
		if len(cols) < 4 || !strings.HasPrefix(line, "| `--") {
			continue
		}
		for _, m := range name.FindAllStringSubmatch(cols[1], -1) {
			if _, dup := rows[m[1]]; dup {
				t.Errorf("docs/controller.md documents --%s twice", m[1])
			}
			rows[m[1]] = strings.TrimSpace(cols[2])
		}
	}
	if len(rows) == 0 {
		t.Fatal("docs/controller.md's flag table has no rows")
	}
	return rows
}

// shownDefault is how the table states f's default: "off" for a false
// boolean, a duration without zero minutes and seconds ("720h"), the value
// itself otherwise; "" when there is none to state.
func shownDefault(f *flag.Flag) string {
	v := f.DefValue
	if bf, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && bf.IsBoolFlag() {
		if v == "false" {
			return "off"
		}
		return "on"
	}
	if _, err := time.ParseDuration(v); err == nil {
		// "720h0m0s" -> "720h", "1m0s" -> "1m"; "10s" stays "10s".
		if strings.HasSuffix(v, "m0s") {
			v = strings.TrimSuffix(v, "0s")
		}
		if strings.HasSuffix(v, "h0m") {
			v = strings.TrimSuffix(v, "0m")
		}
	}
	if slices.Contains([]string{"", "[]"}, v) {
		return ""
	}
	return v
}
