package cli

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestFetchRecipientsURLForms: --url takes the controller's base URL and the
// full .../v1/recipients that docs/cli.md shows, with or without a trailing
// slash, and asks /v1/recipients exactly once either way.
//
// Guard: recipientsURL's suffix check.
func TestFetchRecipientsURLForms(t *testing.T) {
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.URL.RequestURI())
		if r.URL.Path != recipientsPath {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintln(w, testRecipient)
	}))
	defer srv.Close()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"base", []string{"--url", srv.URL}, "/v1/recipients"},
		{"base with slash", []string{"--url", srv.URL + "/"}, "/v1/recipients"},
		{"full path", []string{"--url", srv.URL + "/v1/recipients"}, "/v1/recipients"},
		{"full path with slash", []string{"--url", srv.URL + "/v1/recipients/"}, "/v1/recipients"},
		{"full path, all", []string{"--url", srv.URL + "/v1/recipients", "--all"}, "/v1/recipients?all=1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			paths = nil
			code, out, errs := runMain(append([]string{"fetch-recipients"}, tc.args...)...)
			if code != ExitOK || !strings.Contains(out, testRecipient) {
				t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
			}
			if len(paths) != 1 || paths[0] != tc.want {
				t.Fatalf("asked %q, want only %q", paths, tc.want)
			}
		})
	}
}

// TestFetchRecipientsErrorBody: a failed answer is reported by status and
// content type; an HTML page is never echoed, a plain-text one is cut to
// one short escaped line.
//
// Guard: httpError.
func TestFetchRecipientsErrorBody(t *testing.T) {
	page := "<html><head><title>404 Not Found</title></head><body>" + strings.Repeat("<p>lorem ipsum</p>\n", 500) + "</body></html>"
	long := "no such thing\x1b[31m " + strings.Repeat("x", 5000) + "\nsecond line"
	for _, tc := range []struct {
		name     string
		code     int
		ctype    string
		body     string
		want     []string
		mustNot  []string
		maxLen   int
		wantHint bool
	}{
		{"html 404", 404, "text/html; charset=utf-8", page, []string{"404 Not Found (text/html; charset=utf-8)", "bytes of text/html not shown", "hint: --url takes"}, []string{"<html", "lorem"}, 600, true},
		{"long plain 500", 500, "text/plain", long, []string{"500 Internal Server Error (text/plain)", `"no such thing\x1b[31m xxx`, "(first of"}, []string{"\x1b", "second line", strings.Repeat("x", 300)}, 600, false},
		{"short plain 503", 503, "text/plain; charset=utf-8", "not ready\n", []string{`503 Service Unavailable (text/plain; charset=utf-8): "not ready"`}, []string{"first of"}, 400, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tc.ctype)
				w.WriteHeader(tc.code)
				fmt.Fprint(w, tc.body)
			}))
			defer srv.Close()
			code, out, errs := runMain("fetch-recipients", "--url", srv.URL+"/v1/recipients")
			if code == ExitOK || out != "" {
				t.Fatalf("exit %d, stdout %q", code, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errs)
				}
			}
			for _, w := range tc.mustNot {
				if strings.Contains(errs, w) {
					t.Errorf("stderr has %q:\n%.1000s", w, errs)
				}
			}
			if len(errs) > tc.maxLen {
				t.Errorf("stderr is %d bytes, want at most %d", len(errs), tc.maxLen)
			}
		})
	}
}
