package kmstest

import (
	"context"
	"errors"
	"hash/crc32"
	"net"

	"cloud.google.com/go/kms/apiv1/kmspb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// GCP is a Cloud KMS gRPC server implementing Encrypt and Decrypt with
// additional authenticated data and CRC32C checks.
type GCP struct {
	kmspb.UnimplementedKeyManagementServiceServer
	*core
	Addr string
	srv  *grpc.Server
}

// NewGCP starts a server on a loopback port with the given CryptoKey names.
func NewGCP(keyNames ...string) (*GCP, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	return ServeGCP(ln, keyNames...), nil
}

// ServeGCP serves on ln.
func ServeGCP(ln net.Listener, keyNames ...string) *GCP {
	g := &GCP{core: newCore(), Addr: ln.Addr().String(), srv: grpc.NewServer()}
	for _, k := range keyNames {
		g.addKey(k)
	}
	kmspb.RegisterKeyManagementServiceServer(g.srv, g)
	go func() { _ = g.srv.Serve(ln) }()
	return g
}

// Close stops the server.
func (g *GCP) Close() { g.srv.Stop() }

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func checksum(b []byte) int64 { return int64(crc32.Checksum(b, castagnoli)) }

// verify checks an optional CRC32C sent by the client.
func verify(b []byte, c *wrapperspb.Int64Value, field string) (bool, error) {
	if c == nil {
		return false, nil
	}
	if c.Value != checksum(b) {
		return false, status.Errorf(codes.InvalidArgument, "%s_crc32c does not match: corrupted in transit", field)
	}
	return true, nil
}

// Encrypt implements Cloud KMS Encrypt.
func (g *GCP) Encrypt(_ context.Context, req *kmspb.EncryptRequest) (*kmspb.EncryptResponse, error) {
	key, err := g.admit("Encrypt", req.Name)
	if err != nil {
		return nil, gcpError(req.Name, err)
	}
	vp, err := verify(req.Plaintext, req.PlaintextCrc32C, "plaintext")
	if err != nil {
		return nil, err
	}
	va, err := verify(req.AdditionalAuthenticatedData, req.AdditionalAuthenticatedDataCrc32C, "additional_authenticated_data")
	if err != nil {
		return nil, err
	}
	ct := g.seal(key, req.Plaintext, req.AdditionalAuthenticatedData)
	return &kmspb.EncryptResponse{
		Name: key + "/cryptoKeyVersions/1", Ciphertext: ct, CiphertextCrc32C: wrapperspb.Int64(checksum(ct)),
		VerifiedPlaintextCrc32C: vp, VerifiedAdditionalAuthenticatedDataCrc32C: va,
		ProtectionLevel: kmspb.ProtectionLevel_SOFTWARE,
	}, nil
}

// Decrypt implements Cloud KMS Decrypt.
func (g *GCP) Decrypt(_ context.Context, req *kmspb.DecryptRequest) (*kmspb.DecryptResponse, error) {
	if _, err := g.admit("Decrypt", req.Name); err != nil {
		return nil, gcpError(req.Name, err)
	}
	if _, err := verify(req.Ciphertext, req.CiphertextCrc32C, "ciphertext"); err != nil {
		return nil, err
	}
	if _, err := verify(req.AdditionalAuthenticatedData, req.AdditionalAuthenticatedDataCrc32C, "additional_authenticated_data"); err != nil {
		return nil, err
	}
	_, pt, err := g.open(req.Name, req.Ciphertext, req.AdditionalAuthenticatedData)
	if err != nil {
		return nil, gcpError(req.Name, err)
	}
	return &kmspb.DecryptResponse{Plaintext: pt, PlaintextCrc32C: wrapperspb.Int64(checksum(pt)), UsedPrimary: true, ProtectionLevel: kmspb.ProtectionLevel_SOFTWARE}, nil
}

func gcpError(key string, err error) error {
	switch {
	case errors.Is(err, errDown):
		return status.Error(codes.Unavailable, "the service is currently unavailable")
	case errors.Is(err, errThrottled):
		return status.Error(codes.ResourceExhausted, "quota exceeded")
	case errors.Is(err, errDenied):
		return status.Errorf(codes.PermissionDenied, "permission 'cloudkms.cryptoKeyVersions.useToDecrypt' denied on resource '%s'", key)
	case errors.Is(err, errNotFound):
		return status.Errorf(codes.NotFound, "CryptoKey %s not found", key)
	}
	return status.Error(codes.InvalidArgument, "Decryption failed: the ciphertext is invalid.")
}

// Env returns the environment a process needs to reach this server with
// the real GCP client: the endpoint and plaintext gRPC without credentials
// (pkg/keys/gcpkms EnvEndpoint and EnvInsecure).
func (g *GCP) Env() map[string]string {
	return map[string]string{"KSEAL_GCP_KMS_ENDPOINT": g.Addr, "KSEAL_GCP_KMS_INSECURE": "true"}
}
