package sealedsecrets

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
)

func keySecret(name string, key []byte) string {
	return "- apiVersion: v1\n  kind: Secret\n  metadata: {name: " + name + ", namespace: kube-system}\n  type: kubernetes.io/tls\n  data:\n    tls.key: " + base64.StdEncoding.EncodeToString(key) + "\n"
}

func TestParseKeys(t *testing.T) {
	rk, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rk)})
	der, _ := x509.MarshalPKCS8PrivateKey(rk)
	pkcs8 := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	eder, _ := x509.MarshalPKCS8PrivateKey(ek)
	ec := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: eder})
	list := "apiVersion: v1\nkind: List\nitems:\n"
	for _, tc := range []struct {
		name, in string
		keys     int
		err      string
	}{
		{"pkcs1 and pkcs8, a List as kubectl prints it", list + keySecret("a", pkcs1) + keySecret("b", pkcs8), 2, ""},
		{"no key Secrets", list + "- {apiVersion: v1, kind: ConfigMap, metadata: {name: x}}\n", 0, ErrNoKeys.Error()},
		{"an EC key in PKCS#8", list + keySecret("ec", ec), 0, "keys.yaml: doc 1 item 1: Secret kube-system/ec: data.tls.key: a *ecdsa.PrivateKey: sealed-secrets keys are RSA"},
		{"not PEM", list + keySecret("junk", []byte("hello")), 0, "data.tls.key: not a PEM private key"},
		{"a broken RSA key", list + keySecret("broken", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: []byte("x")})), 0, "data.tls.key: malformed RSA private key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ks, err := ParseKeys("keys.yaml", []byte(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				if strings.Contains(err.Error(), "PRIVATE KEY-----") {
					t.Fatalf("error quotes key material: %v", err)
				}
				return
			}
			if err != nil || len(ks) != tc.keys {
				t.Fatalf("%d keys, %v", len(ks), err)
			}
			if ks[0].Fingerprint != ks[1].Fingerprint || !strings.HasPrefix(ks[0].Fingerprint, "SHA256:") {
				t.Errorf("fingerprints %q %q", ks[0].Fingerprint, ks[1].Fingerprint)
			}
		})
	}
	if _, err := ParseKeys("k", []byte("apiVersion: v1\nkind: List\nitems: []\n")); !errors.Is(err, ErrNoKeys) {
		t.Errorf("empty list: %v", err)
	}
}
