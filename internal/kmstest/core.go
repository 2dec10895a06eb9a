// Package kmstest holds protocol-level KMS servers for tests and benchmarks:
// an AWS KMS server speaking the JSON 1.1 protocol over HTTP and a GCP KMS
// gRPC server. Both keep real keys (AES-256-GCM), enforce the encryption
// context / additional authenticated data, return the real error shapes,
// count calls, and inject latency, throttling, outages and denial per key.
// The real SDK clients talk to them unchanged.
package kmstest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"maps"
	"sort"
	"sync"
	"time"
)

// Fault configures what a key's next calls suffer.
type Fault struct {
	Latency  time.Duration // added to every call
	Throttle int           // the next N calls are throttled
	Down     bool          // every call fails as an outage
	Deny     bool          // every call is denied
}

// core holds the keys, faults and counters both servers share.
type core struct {
	mu     sync.Mutex
	keys   map[string]cipher.AEAD // by canonical key name
	index  map[string]uint16
	names  []string
	alias  map[string]string // alias → key
	faults map[string]*Fault
	calls  map[string]int // by operation
	keyOps map[string]int // by operation and canonical key: "Decrypt " + key
}

func newCore() *core {
	return &core{keys: map[string]cipher.AEAD{}, index: map[string]uint16{}, alias: map[string]string{}, faults: map[string]*Fault{}, calls: map[string]int{}, keyOps: map[string]int{}}
}

func (c *core) addKey(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	b, _ := aes.NewCipher(k)
	g, _ := cipher.NewGCM(b)
	c.keys[name] = g
	c.index[name] = uint16(len(c.names))
	c.names = append(c.names, name)
}

// SetFault sets the fault of a key (or alias).
func (c *core) SetFault(key string, f Fault) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if k, ok := c.alias[key]; ok {
		key = k
	}
	c.faults[key] = &f
}

// Calls returns how many calls of op (e.g. "Encrypt") were served, faults
// included.
func (c *core) Calls(op string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[op]
}

// KeyCalls returns how many calls of op were served for key (or alias),
// faults included.
func (c *core) KeyCalls(op, key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if k, ok := c.alias[key]; ok {
		key = k
	}
	return c.keyOps[op+" "+key]
}

// Counts returns a copy of every counter: "OP" for all calls of OP, "OP
// KEY" for those on KEY. Tests sharing one server subtract an earlier copy
// instead of resetting the counters under each other's feet.
func (c *core) Counts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	maps.Copy(out, c.calls)
	maps.Copy(out, c.keyOps)
	return out
}

// ResetCalls zeroes the call counters.
func (c *core) ResetCalls() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = map[string]int{}
	c.keyOps = map[string]int{}
}

var (
	errNotFound  = errors.New("not found")
	errDenied    = errors.New("denied")
	errThrottled = errors.New("throttled")
	errDown      = errors.New("down")
	errCipher    = errors.New("invalid ciphertext")
	errWrongKey  = errors.New("incorrect key")
)

// admit counts the call and applies the key's fault. It returns the
// canonical key name.
func (c *core) admit(op, key string) (string, error) {
	c.mu.Lock()
	c.calls[op]++
	if k, ok := c.alias[key]; ok {
		key = k
	}
	c.keyOps[op+" "+key]++
	f := c.faults[key]
	var fault Fault
	if f != nil {
		fault = *f
		if f.Throttle > 0 {
			f.Throttle--
		}
	}
	_, known := c.keys[key]
	c.mu.Unlock()
	if fault.Latency > 0 {
		time.Sleep(fault.Latency)
	}
	switch {
	case fault.Down:
		return "", errDown
	case fault.Throttle > 0:
		return "", errThrottled
	case fault.Deny:
		return "", errDenied
	case key != "" && !known:
		return "", errNotFound
	}
	return key, nil
}

// seal encrypts under key: index (2 bytes) || nonce || AES-GCM(pt, aad).
func (c *core) seal(key string, pt, aad []byte) []byte {
	c.mu.Lock()
	g, idx := c.keys[key], c.index[key]
	c.mu.Unlock()
	out := binary.BigEndian.AppendUint16(nil, idx)
	nonce := make([]byte, g.NonceSize())
	_, _ = rand.Read(nonce)
	out = append(out, nonce...)
	return g.Seal(out, nonce, pt, aad)
}

// open decrypts a blob; wantKey, when set, must be the key that made it.
func (c *core) open(wantKey string, blob, aad []byte) (string, []byte, error) {
	c.mu.Lock()
	if k, ok := c.alias[wantKey]; ok {
		wantKey = k
	}
	if len(blob) < 2+12+16 || int(binary.BigEndian.Uint16(blob)) >= len(c.names) {
		c.mu.Unlock()
		return "", nil, errCipher
	}
	key := c.names[binary.BigEndian.Uint16(blob)]
	g := c.keys[key]
	c.mu.Unlock()
	if wantKey != "" && wantKey != key {
		return "", nil, errWrongKey
	}
	pt, err := g.Open(nil, blob[2:14], blob[14:], aad)
	if err != nil {
		return "", nil, errCipher
	}
	return key, pt, nil
}

// canonicalContext encodes an encryption context independent of map order.
func canonicalContext(m map[string]string) []byte {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	var b []byte
	for _, k := range ks {
		b = binary.BigEndian.AppendUint32(b, uint32(len(k)))
		b = append(b, k...)
		b = binary.BigEndian.AppendUint32(b, uint32(len(m[k])))
		b = append(b, m[k]...)
	}
	return b
}
