package cli

import (
	"bytes"
	"context"
	"fmt"
	"net"
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

// nonLoopbackIP is an address of this machine that is not loopback, or "".
func nonLoopbackIP() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String()
		}
	}
	return ""
}

// TestFetchRecipientsRedirect: --url on loopback may redirect to loopback
// or https, never to plain http on the network, which is never asked.
//
// Guard: checkRecipientsRedirect.
func TestFetchRecipientsRedirect(t *testing.T) {
	ip := nonLoopbackIP()
	if ip == "" {
		t.Skip("no address besides loopback")
	}
	theirs, err := agekey.Generate(true)
	if err != nil {
		t.Fatal(err)
	}
	mitm := theirs.Recipient()
	offCalls := 0
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Skip(err)
	}
	off := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		offCalls++
		fmt.Fprintln(w, mitm)
	}))
	off.Listener.Close()
	off.Listener = ln
	off.Start()
	defer off.Close()
	loop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, testRecipient)
	}))
	defer loop.Close()
	redirect := func(to string) *httptest.Server {
		srv := httptest.NewServer(http.RedirectHandler(to, http.StatusFound))
		t.Cleanup(srv.Close)
		return srv
	}
	for _, tc := range []struct {
		name string
		to   string
		code int
		want string
	}{
		{"to loopback", loop.URL + "/v1/recipients", ExitOK, testRecipient},
		{"to plain http off loopback", off.URL + "/v1/recipients", ExitError, "redirected to " + off.URL + "/v1/recipients: refused: only https, or plain http on loopback"},
		{"to another scheme", "ftp://" + ip + "/v1/recipients", ExitError, "refused: only https"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runMain("fetch-recipients", "--url", redirect(tc.to).URL)
			if code != tc.code || !strings.Contains(out+errs, tc.want) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d and %q", code, out, errs, tc.code, tc.want)
			}
			if strings.Contains(out, mitm) || offCalls != 0 {
				t.Fatalf("kseal asked the server off loopback (%d calls) or printed its recipients: %q", offCalls, out)
			}
		})
	}
}
