package vaulttransit

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"kseal.dev/kseal/pkg/keys"
)

var _ keys.Refresher = (*Recipient)(nil)

// Stale reports whether s was wrapped with an older version of the transit
// key than the latest (after `vault write -f MOUNT/keys/NAME/rotate`), so
// that kseal reencrypt wraps it anew. It reads MOUNT/keys/NAME, which needs
// the read capability; without it the wrap is kept (false).
func (r *Recipient) Stale(ctx context.Context, s *keys.Stanza) (bool, error) {
	if s.Type != Type || s.KeyID != r.KeyID() {
		return false, nil
	}
	v, ok := wrapVersion(string(s.Body))
	if !ok {
		return true, nil // not a transit ciphertext: wrap it anew
	}
	get := r.cfg
	if get == nil {
		get = envClient
	}
	c, ts, err := get()
	if err != nil {
		return false, err
	}
	if c.origin != r.Key.Origin {
		return false, errOtherServer(r.Key, c.origin)
	}
	tok, err := ts.Token(ctx)
	if err != nil {
		return false, err
	}
	var resp struct {
		Data struct {
			LatestVersion int `json:"latest_version"`
		} `json:"data"`
	}
	err = c.call(ctx, r.Key.URL(), "read", http.MethodGet, "/v1/"+r.Key.Mount+"/keys/"+r.Key.Name, tok, nil, &resp)
	if keys.KindOf(err) == keys.KindAccessDenied {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return v < resp.Data.LatestVersion, nil
}

// wrapVersion returns N of a "vault:vN:…" ciphertext.
func wrapVersion(ct string) (int, bool) {
	rest, ok := strings.CutPrefix(ct, "vault:v")
	if !ok {
		return 0, false
	}
	n, _, ok := strings.Cut(rest, ":")
	if !ok {
		return 0, false
	}
	v, err := strconv.Atoi(n)
	return v, err == nil && v > 0
}
