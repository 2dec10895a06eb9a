package vaulttransit

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Prefix starts every Vault recipient string.
const Prefix = "vault:"

// Key is a transit key named by its URL:
// https://HOST:PORT/v1/MOUNT/keys/NAME.
type Key struct {
	Origin string // scheme://host[:port], where the token may be sent
	Mount  string // the transit mount path, e.g. "transit" or "teams/transit"
	Name   string
}

// URL is the key's canonical URL, its key ID.
func (k Key) URL() string { return k.Origin + "/v1/" + k.Mount + "/keys/" + k.Name }

// path returns the API path of a transit operation on the key.
func (k Key) path(op string) string { return "/v1/" + k.Mount + "/" + op + "/" + k.Name }

// ParseKeyURL parses a transit key URL (without the vault: prefix). Only
// https is accepted, or http to a loopback address: a token sent over plain
// http to another host could be read on the way.
func ParseKeyURL(s string) (Key, error) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return Key{}, fmt.Errorf("vault key %q: want https://HOST[:PORT]/v1/MOUNT/keys/NAME", s)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(s, "?") || strings.HasSuffix(s, "#") {
		return Key{}, fmt.Errorf("vault key %q: no user, query or fragment allowed in a key URL", s)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !IsLoopback(u.Hostname()) {
			return Key{}, fmt.Errorf("vault key %q: http:// only to a loopback address; use https", s)
		}
	default:
		return Key{}, fmt.Errorf("vault key %q: want an https:// URL", s)
	}
	p := u.EscapedPath()
	i := strings.LastIndex(p, "/keys/")
	if !strings.HasPrefix(p, "/v1/") || i < len("/v1") {
		return Key{}, fmt.Errorf("vault key %q: want https://HOST[:PORT]/v1/MOUNT/keys/NAME", s)
	}
	k := Key{Origin: u.Scheme + "://" + strings.ToLower(u.Host), Mount: p[len("/v1/"):i], Name: p[i+len("/keys/"):]}
	if !validSegments(k.Mount) || !validSegments(k.Name) || strings.Contains(k.Name, "/") {
		return Key{}, fmt.Errorf("vault key %q: mount and key name must be plain path segments (letters, digits, - _ .)", s)
	}
	return k, nil
}

// validSegments reports whether p is one or more '/'-separated segments of
// letters, digits, '-', '_' and '.', none of them "." or "..".
func validSegments(p string) bool {
	if p == "" {
		return false
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
		for _, c := range seg {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
				return false
			}
		}
	}
	return true
}

// IsLoopback reports whether host is localhost or a loopback IP.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// origin parses a VAULT_ADDR into scheme://host[:port].
func origin(addr string) (string, error) {
	u, err := url.Parse(strings.TrimRight(addr, "/"))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || (u.Path != "" && u.Path != "/") {
		return "", fmt.Errorf("VAULT_ADDR %q: want https://HOST[:PORT]", addr)
	}
	if u.Scheme == "http" && !IsLoopback(u.Hostname()) {
		return "", fmt.Errorf("VAULT_ADDR %q: http:// only to a loopback address; use https", addr)
	}
	return u.Scheme + "://" + strings.ToLower(u.Host), nil
}
