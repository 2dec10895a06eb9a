package manifest

import (
	"strings"
	"testing"
)

func TestParseDotenv(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		kind    Kind
		target  string            // namespace/name of the Secret
		values  map[string]string // plain values
		wantErr string
	}{
		{name: "plain", in: "# c\nA=1\n\n  B=x=y\r\nC=\n", kind: KindSecret, target: "app",
			values: map[string]string{"A": "1", "B": "x=y", "C": ""}},
		{name: "quotes kept", in: "A=\"q\"\n", kind: KindSecret, target: "app", values: map[string]string{"A": `"q"`}},
		{name: "byte order mark", in: "\ufeffA=1\n", kind: KindSecret, target: "app", values: map[string]string{"A": "1"}},
		{name: "no final newline", in: "A=1", kind: KindSecret, target: "app", values: map[string]string{"A": "1"}},
		{name: "sealed", in: "#kseal.dev/secret=shop/app\nA=AAAA\n#kseal.dev/envelope={}\n", kind: KindEncrypted, target: "shop/app"},
		{name: "sealed without namespace", in: "#kseal.dev/secret=app\nA=AAAA\n#kseal.dev/envelope={}\n", kind: KindEncrypted, target: "app"},
		{name: "bare key", in: "A=1\nhunter2\n", wantErr: "line 2: a line without '='"},
		{name: "bad key", in: "1A=x\n", wantErr: "line 1: not KEY=VALUE"},
		{name: "export", in: "export A=x\n", wantErr: "line 1: not KEY=VALUE"},
		{name: "duplicate", in: "A=1\nA=2\n", wantErr: `line 2: key "A" given twice`},
		{name: "not UTF-8", in: "A=\xff\n", wantErr: "line 1: not valid UTF-8"},
		{name: "a line hidden behind a bare CR", in: "A=1\n# note\rB=hunter2\n", wantErr: "line 2: a carriage return inside the line"},
		{name: "envelope alone", in: "A=AAAA\n#kseal.dev/envelope={}\n", wantErr: "line 2: a sealed dotenv needs both kseal lines"},
		{name: "secret alone", in: "#kseal.dev/secret=shop/app\nA=AAAA\n", wantErr: "line 1: a sealed dotenv needs both kseal lines"},
		{name: "twice", in: "#kseal.dev/secret=a\n#kseal.dev/secret=b\nA=AAAA\n#kseal.dev/envelope={}\n", wantErr: "line 2: a kseal line given twice"},
		{name: "unknown kseal line", in: "#kseal.dev/scope=x\n", wantErr: "line 1: unknown kseal line"},
		{name: "bad name", in: "#kseal.dev/secret=shop/Bad_Name\nA=AAAA\n#kseal.dev/envelope={}\n", wantErr: "line 1:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ParseDotenv([]byte(tc.in), "app")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "\xff") {
					t.Errorf("error quotes the line: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			d := s.Docs[0]
			if d.Kind != tc.kind || d.Target().String() != tc.target {
				t.Fatalf("kind %v target %s, want %v %s", d.Kind, d.Target(), tc.kind, tc.target)
			}
			if tc.values != nil {
				got, err := d.Plain()
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(tc.values) {
					t.Fatalf("values %v, want %v", got, tc.values)
				}
				for k, v := range tc.values {
					if string(got[k]) != v {
						t.Errorf("%s = %q, want %q", k, got[k], v)
					}
				}
			}
		})
	}
}

// TestDotenvUnchanged: a dotenv read and not changed is written back byte
// for byte (comments, order, line ends).
func TestDotenvUnchanged(t *testing.T) {
	in := "# keep\r\nB=2\nA=1\n\n"
	s, err := ParseDotenv([]byte(in), "app")
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != in {
		t.Fatalf("got %q, want %q", out, in)
	}
}

// TestDotenvRenderRefuses: what a dotenv cannot hold is an error, never a
// file that reads back as something else.
func TestDotenvRenderRefuses(t *testing.T) {
	cases := []struct {
		name, yaml, want string
	}{
		{"line break", "apiVersion: v1\nkind: Secret\nmetadata: {name: a}\nstringData: {K: \"a\\nB=b\"}\n", "line break"},
		{"label", "apiVersion: v1\nkind: Secret\nmetadata: {name: a, labels: {x: v}}\nstringData: {K: v}\n", "no labels"},
		{"type", "apiVersion: v1\nkind: Secret\nmetadata: {name: a}\ntype: kubernetes.io/tls\nstringData: {K: v}\n", "no labels, annotations, type"},
		{"key", "apiVersion: v1\nkind: Secret\nmetadata: {name: a}\nstringData: {\"1K\": v}\n", "not a key a dotenv can hold"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse([]byte(tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if err := s.ToDotenv(); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Bytes(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func FuzzParseDotenv(f *testing.F) {
	f.Add([]byte("A=1\n# c\nB=x=y\n"))
	f.Add([]byte("#kseal.dev/secret=shop/app\nA=AAAA\n#kseal.dev/envelope={}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseDotenv(data, "app")
		if err != nil {
			return
		}
		if len(s.Docs) != 1 || (s.Docs[0].Kind != KindSecret && s.Docs[0].Kind != KindEncrypted) {
			t.Fatalf("%d docs", len(s.Docs))
		}
		out, err := s.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != string(data) {
			t.Fatal("an unchanged dotenv was rewritten")
		}
	})
}
