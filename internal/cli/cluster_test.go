package cli

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	_ "kseal.dev/kseal/internal/providers"
	"kseal.dev/kseal/pkg/keys/agekey"
)

const testRecipient = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"

func runMain(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestFetchRecipientsURL(t *testing.T) {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		fmt.Fprintln(w, testRecipient)
	}))
	defer srv.Close()
	id := agekey.KeyID(testRecipient)
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"http on loopback", []string{"--url", srv.URL}, ExitOK, testRecipient},
		{"http on localhost", []string{"--url", strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)}, ExitOK, testRecipient},
		{"plain http elsewhere", []string{"--url", "http://kseal.example.com:8082"}, ExitUsage, "plain http is refused except on loopback"},
		{"another scheme", []string{"--url", "ftp://kseal.example.com"}, ExitUsage, "want an https URL"},
		{"pinned key ID matches", []string{"--url", srv.URL, "--expect-key-id", id}, ExitOK, testRecipient},
		{"pinned key ID differs", []string{"--url", srv.URL, "--expect-key-id", "0123456789abcdef"}, ExitError, "not the expected 0123456789abcdef: refusing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := calls
			code, out, errs := runMain(append([]string{"fetch-recipients"}, tc.args...)...)
			if code != tc.code || !strings.Contains(out+errs, tc.want) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d and %q", code, out, errs, tc.code, tc.want)
			}
			if tc.code == ExitOK && calls != before+1 {
				t.Fatalf("server called %d times", calls-before)
			}
			if tc.code != ExitOK && strings.Contains(out, "age1") {
				t.Fatalf("refused recipients were printed: %q", out)
			}
		})
	}
}
