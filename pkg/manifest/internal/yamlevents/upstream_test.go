package yamlevents

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// upstreamModule is where the copied files came from. go.mod requires it
// (kyaml uses it), so its source is in the module cache at the version the
// build links.
const upstreamModule = "go.yaml.in/yaml/v3"

// copied are the files taken from upstreamModule; events.go is kseal's own.
var copied = []string{"apic.go", "parserc.go", "readerc.go", "resolve.go", "scannerc.go", "yamlh.go", "yamlprivateh.go"}

// changes are the copy's only edits, each the one statement that calls
// runs.go's fast path for a run of ASCII: in each declaration named, the
// copy's text with the first string replaced by the second must be
// upstream's.
var changes = map[string][2]string{
	"yaml_parser_update_buffer":     {"if parser.encoding == yaml_UTF8_ENCODING && decodeASCII(parser, &buffer_len) {\n\t\t\t\tcontinue\n\t\t\t}\n\t\t\t", ""},
	"yaml_parser_scan_plain_scalar": {"s = readPlain(parser, s)", "s = read(parser, s)"},
}

// leftOut says which upstream declarations the copy omits: the emitter's
// and what only the emitter and encoder call (output handlers, event
// constructors), since kseal only reads events.
var leftOut = regexp.MustCompile(`emitter|_write_handler$|_event_initialize$`)

// TestCopyIsUpstream: the copied scanner and parser are the code of the
// upstream version go.mod names, declaration by declaration (formatting
// and comments aside), with only the emitter left out and only the
// changes above; and events.go's
// doc comment names that version. When go.mod moves to a new release,
// this fails until the copy is refreshed from it (copy the files, change
// the package clause, delete the emitter functions, run gofmt).
func TestCopyIsUpstream(t *testing.T) {
	dir, version := upstreamDir(t)
	doc, err := os.ReadFile("events.go")
	if err != nil {
		t.Fatal(err)
	}
	if want := upstreamModule + "\n// " + version; !bytes.Contains(doc, []byte(want)) && !bytes.Contains(doc, []byte(upstreamModule+" "+version)) {
		t.Errorf("events.go's doc comment does not name %s %s, the version go.mod links", upstreamModule, version)
	}
	for _, name := range copied {
		ours := decls(t, name)
		theirs := decls(t, filepath.Join(dir, name))
		for id, src := range ours {
			if c, ok := changes[id]; ok {
				if !strings.Contains(src, c[0]) {
					t.Errorf("%s: %s lacks its change %q", name, id, c[0])
				}
				src = strings.Replace(src, c[0], c[1], 1)
			}
			up, ok := theirs[id]
			switch {
			case !ok:
				t.Errorf("%s: %s is not in %s %s", name, id, upstreamModule, version)
			case up != src:
				t.Errorf("%s: %s differs from %s %s", name, id, upstreamModule, version)
			}
		}
		for id := range theirs {
			if _, ok := ours[id]; !ok && !leftOut.MatchString(id) {
				t.Errorf("%s: upstream's %s is missing from the copy", name, id)
			}
		}
	}
}

// upstreamDir finds the upstream module's source and version with the go
// command, as the build resolves it.
func upstreamDir(t *testing.T) (dir, version string) {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-json", upstreamModule).Output()
	if err != nil {
		t.Fatalf("go list -m %s: %v", upstreamModule, err)
	}
	var m struct{ Dir, Version string }
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	if m.Dir == "" {
		// Not downloaded yet: fetch it (from the module proxy, as any
		// build of this module does).
		out, err := exec.Command("go", "mod", "download", "-json", upstreamModule+"@"+m.Version).Output()
		if err != nil {
			t.Fatalf("go mod download %s@%s: %v", upstreamModule, m.Version, err)
		}
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatal(err)
		}
	}
	return m.Dir, m.Version
}

// decls maps each top-level declaration of a file but its imports
// (functions by name, methods by receiver and name, types, constants and
// variables by the names they declare) to its code printed
// without comments, so that formatting and comment changes do not count.
func decls(t *testing.T, path string) map[string]string {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, 0) // no comments
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, d := range f.Decls {
		if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.IMPORT {
			continue // the compiler checks what the copy imports
		}
		var buf bytes.Buffer
		if err := printer.Fprint(&buf, fset, d); err != nil {
			t.Fatal(err)
		}
		out[declName(d)] = buf.String()
	}
	return out
}

func declName(d ast.Decl) string {
	switch d := d.(type) {
	case *ast.FuncDecl:
		if d.Recv != nil && len(d.Recv.List) == 1 {
			var buf strings.Builder
			_ = printer.Fprint(&buf, token.NewFileSet(), d.Recv.List[0].Type)
			return buf.String() + "." + d.Name.Name
		}
		return d.Name.Name
	case *ast.GenDecl:
		var names []string
		for _, s := range d.Specs {
			switch s := s.(type) {
			case *ast.TypeSpec:
				names = append(names, s.Name.Name)
			case *ast.ValueSpec:
				for _, n := range s.Names {
					names = append(names, n.Name)
				}
			}
		}
		slices.Sort(names)
		return d.Tok.String() + " " + strings.Join(names, ",")
	}
	return "?"
}
