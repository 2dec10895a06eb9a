package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"kseal.dev/kseal/internal/kmstest"
)

// sealedSecretsKey makes a key pair the way the sealed-secrets controller
// v0.27.1 does (pkg/crypto GeneratePrivateKeyAndCert: RSA, a self-signed
// certificate with CN sealed-secret, PKCS#1 PEM) and writes NAME.crt for
// kubeseal --cert and NAME.yaml, the Secret as kubectl get -o yaml prints it.
//
//	sealedsecretskey [-ec] NAME
func sealedSecretsKey(ts *testscript.TestScript, neg bool, args []string) {
	ec := len(args) == 2 && args[0] == "-ec"
	if ec {
		args = args[1:]
	}
	if len(args) != 1 {
		ts.Fatalf("usage: sealedsecretskey [-ec] NAME")
	}
	name := args[0]
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	ts.Check(err)
	tmpl := x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), KeyUsage: x509.KeyUsageEncipherOnly,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		Issuer: pkix.Name{CommonName: "sealed-secret"}, Subject: pkix.Name{CommonName: "sealed-secret"},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, &tmpl, &tmpl, &key.PublicKey, key)
	ts.Check(err)
	crt := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	priv := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if ec {
		priv = pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: []byte("not used")})
	}
	ts.Check(os.WriteFile(ts.MkAbs(name+".crt"), crt, 0o644))
	secret := fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata:
  creationTimestamp: "2026-01-01T00:00:00Z"
  generateName: sealed-secrets-key
  labels:
    sealedsecrets.bitnami.com/sealed-secrets-key: active
  name: %s
  namespace: kube-system
  resourceVersion: "1"
  uid: 7d0c3f1e-0000-4000-8000-000000000001
type: kubernetes.io/tls
data:
  tls.crt: %s
  tls.key: %s
`, name, base64.StdEncoding.EncodeToString(crt), base64.StdEncoding.EncodeToString(priv))
	ts.Check(os.WriteFile(ts.MkAbs(name+".yaml"), []byte(secret), 0o600))
}

// gcpTLS serves the GCP KMS test server over TLS with a certificate for
// 127.0.0.1, for clients that cannot be told to speak plaintext (sops):
// they trust it through SSL_CERT_FILE, which it writes in dir.
func gcpTLS(keyName, dir string) (*kmstest.GCP, string, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, "", err
	}
	tmpl := x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kmstest"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, &tmpl, &tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, "", err
	}
	caFile := filepath.Join(dir, "gcpkms-ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return nil, "", err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, NextProtos: []string{"h2"}}
	return kmstest.ServeGCP(tls.NewListener(ln, cfg), keyName), caFile, nil
}
