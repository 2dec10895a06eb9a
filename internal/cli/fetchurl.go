package cli

import (
	"fmt"
	"io"
	"mime"
	"net/http"
	neturl "net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// recipientsPath is where kseal-controller serves its recipients.
const recipientsPath = "/v1/recipients"

// recipientsURL returns the endpoint to ask for --url raw: the controller's
// base URL gets /v1/recipients appended, a URL that already ends in it (the
// form docs/cli.md shows) is taken as it is — appending blindly asked for
// /v1/recipients/v1/recipients, a 404.
func recipientsURL(raw string, all bool) (string, error) {
	u, err := neturl.Parse(raw)
	if err != nil {
		return "", usagef("--url: %v", err)
	}
	path := strings.TrimRight(u.Path, "/")
	if !strings.HasSuffix(path, recipientsPath) {
		path += recipientsPath
	}
	u.Path, u.RawPath = path, ""
	if all {
		q := u.Query()
		q.Set("all", "1")
		u.RawQuery = q.Encode()
	}
	return u.String(), nil
}

// maxErrorBody is how much of an error response's body an error quotes:
// the first line of a short plain-text answer helps, a proxy's HTML page
// does not.
const maxErrorBody = 200

// fetchRecipientsURL asks the recipients endpoint at --url.
func fetchRecipientsURL(e *env, raw string, all bool) (string, error) {
	u, err := recipientsURL(raw, all)
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(e.ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second, CheckRedirect: checkRecipientsRedirect}).Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", httpError(u, resp, b)
	}
	return string(b), nil
}

// httpError describes a failed answer by its status and content type, and
// quotes at most the first line of a short plain-text body, escaped: a
// whole HTML page (an ingress's 404, a login form) is noise at best, and
// whatever the server sends must not reach the terminal as control
// characters.
func httpError(u string, resp *http.Response, body []byte) error {
	ct := resp.Header.Get("Content-Type")
	media, _, _ := mime.ParseMediaType(ct)
	msg := fmt.Sprintf("%s: %s", u, resp.Status)
	if ct != "" {
		msg += " (" + printable(ct) + ")"
	}
	switch {
	case len(body) == 0:
	case media != "text/plain" && media != "application/json":
		msg += fmt.Sprintf("; %d bytes of %s not shown", len(body), printable(orUnknown(media)))
	default:
		line, _, _ := strings.Cut(strings.TrimSpace(string(body)), "\n")
		cut := len(line) > maxErrorBody
		if cut {
			line = line[:maxErrorBody]
			for !utf8.ValidString(line) {
				line = line[:len(line)-1]
			}
		}
		msg += ": " + strconv.Quote(line)
		if cut || len(strings.TrimSpace(string(body))) > len(line) {
			msg += fmt.Sprintf(" (first of %d bytes)", len(body))
		}
	}
	if resp.StatusCode == http.StatusNotFound {
		return hintError{fmt.Errorf("%s", msg), "--url takes the controller's base URL (https://HOST:8082) or its " + recipientsPath + "; is the recipients port (--recipients-bind-address) exposed there?"}
	}
	return fmt.Errorf("%s", msg)
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown type"
	}
	return s
}
