package cli

import "testing"

// TestKsopsDotenvRefusesWhatGodotenvReadsOtherwise: a value KSOPS (through
// godotenv) would read otherwise than as it stands is refused, never
// converted to another value than the one deployed.
func TestKsopsDotenvRefusesWhatGodotenvReadsOtherwise(t *testing.T) {
	for _, tc := range []struct {
		name, line string
		ok         bool
	}{
		{"a plain value", "K=v", true},
		{"spaces around", "  K = v  ", true},
		{"a comment after a space", "K=v # note", false},
		{"a comment after a tab", "K=v\t# note", false},
		{"a line ending in ---", "K=abc---", false},
		{"a quoted value", `K="v"`, false},
		{"an expansion", "K=${HOME}", false},
		{"export", "export K=v", false},
		{"a non-ASCII space at the end", "K=v\u3000", false},
		{"a no-break space at the start", "K=\u00a0v", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ksopsDotenv([]byte(tc.line + "\n"))
			if (err == nil) != tc.ok {
				t.Errorf("ksopsDotenv(%q) error %v, want ok %v", tc.line, err, tc.ok)
			}
		})
	}
}

// TestSopsFormatIsCaseSensitive: sops picks a format by the extension as
// written, so x.YAML is a binary file to it (and to KSOPS).
func TestSopsFormatIsCaseSensitive(t *testing.T) {
	for path, want := range map[string]string{"a.yaml": "yaml", "a.yml": "yaml", "a.YAML": "binary", "a.env": "dotenv", "a.Json": "binary", "a": "binary", "a.ini": "ini"} {
		if got := sopsFormat(path); got != want {
			t.Errorf("sopsFormat(%q) = %s, want %s", path, got, want)
		}
	}
}
