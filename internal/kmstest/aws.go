package kmstest

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
)

// AWS is an AWS KMS server speaking the JSON 1.1 protocol
// (X-Amz-Target: TrentService.Encrypt, .Decrypt, .GenerateDataKey).
type AWS struct {
	*core
	URL string
	srv *http.Server
	ln  net.Listener

	lastAccessKey string            // of the last KMS request
	roleKeys      map[string]string // access key issued → role ARN
}

// accessKey extracts the access key ID from a SigV4 Authorization header.
func accessKey(auth string) string {
	_, rest, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(rest, "/")
	return id
}

// LastRole returns the role whose temporary credentials signed the last KMS
// request, or "" for other credentials.
func (a *AWS) LastRole() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.roleKeys[a.lastAccessKey]
}

// serveSTS answers sts:AssumeRole (AWS Query protocol) with temporary
// credentials whose access key identifies the role.
func (a *AWS) serveSTS(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.Form.Get("Action") != "AssumeRole" {
		http.Error(w, "unsupported STS action", http.StatusBadRequest)
		return
	}
	role := r.Form.Get("RoleArn")
	a.mu.Lock()
	a.calls["AssumeRole"]++
	if a.roleKeys == nil {
		a.roleKeys = map[string]string{}
	}
	key := fmt.Sprintf("ASIAKSEALTEST%04d", len(a.roleKeys))
	a.roleKeys[key] = role
	a.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>
<AssumedRoleUser><Arn>%s/kseal</Arn><AssumedRoleId>AROATEST:kseal</AssumedRoleId></AssumedRoleUser>
<Credentials><AccessKeyId>%s</AccessKeyId><SecretAccessKey>secret</SecretAccessKey><SessionToken>token</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>
</AssumeRoleResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></AssumeRoleResponse>`, role, key)
}

// NewAWS starts a server on a loopback port with the given key ARNs.
func NewAWS(keyARNs ...string) (*AWS, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	return ServeAWS(ln, keyARNs...), nil
}

// ServeAWS serves on ln.
func ServeAWS(ln net.Listener, keyARNs ...string) *AWS {
	a := &AWS{core: newCore(), URL: "http://" + ln.Addr().String(), ln: ln}
	for _, k := range keyARNs {
		a.addKey(k)
	}
	a.srv = &http.Server{Handler: a}
	go func() { _ = a.srv.Serve(ln) }()
	return a
}

// AddAlias makes alias ARN name the key.
func (a *AWS) AddAlias(alias, keyARN string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.alias[alias] = keyARN
}

// Close stops the server.
func (a *AWS) Close() error { return a.srv.Close() }

type awsRequest struct {
	KeyId             string            `json:"KeyId"`
	Plaintext         []byte            `json:"Plaintext"`
	CiphertextBlob    []byte            `json:"CiphertextBlob"`
	EncryptionContext map[string]string `json:"EncryptionContext"`
	NumberOfBytes     int               `json:"NumberOfBytes"`
	KeySpec           string            `json:"KeySpec"`
}

func (a *AWS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && r.URL.Path == "/kseal-test/calls" {
		a.mu.Lock()
		defer a.mu.Unlock()
		writeJSON(w, a.calls)
		return
	}
	if r.Header.Get("X-Amz-Target") == "" && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		a.serveSTS(w, r)
		return
	}
	a.mu.Lock()
	a.lastAccessKey = accessKey(r.Header.Get("Authorization"))
	a.mu.Unlock()
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, "TrentService.")
	if r.Method != http.MethodPost || !ok {
		awsError(w, http.StatusBadRequest, "UnknownOperationException", "unknown target "+target)
		return
	}
	// The real service rejects unsigned requests; so does this one.
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=") {
		awsError(w, http.StatusBadRequest, "MissingAuthenticationTokenException", "request is missing a SigV4 Authorization header")
		return
	}
	var req awsRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
		awsError(w, http.StatusBadRequest, "SerializationException", err.Error())
		return
	}
	aad := canonicalContext(req.EncryptionContext)
	switch op {
	case "Encrypt", "GenerateDataKey":
		key, err := a.admit(op, req.KeyId)
		if a.fail(w, req.KeyId, err) {
			return
		}
		pt := req.Plaintext
		if op == "GenerateDataKey" {
			n := req.NumberOfBytes
			if req.KeySpec == "AES_256" || n == 0 {
				n = 32
			}
			pt = make([]byte, n)
			_, _ = rand.Read(pt)
		}
		resp := map[string]any{"CiphertextBlob": a.seal(key, pt, aad), "KeyId": key, "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}
		if op == "GenerateDataKey" {
			resp["Plaintext"] = pt
		}
		writeJSON(w, resp)
	case "Decrypt":
		if _, err := a.admit(op, req.KeyId); a.fail(w, req.KeyId, err) {
			return
		}
		key, pt, err := a.open(req.KeyId, req.CiphertextBlob, aad)
		if a.fail(w, req.KeyId, err) {
			return
		}
		writeJSON(w, map[string]any{"Plaintext": pt, "KeyId": key, "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"})
	default:
		awsError(w, http.StatusBadRequest, "UnknownOperationException", "unsupported operation "+op)
	}
}

func (a *AWS) fail(w http.ResponseWriter, key string, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, errDown):
		awsError(w, http.StatusServiceUnavailable, "ServiceUnavailable", "service unavailable")
	case errors.Is(err, errThrottled):
		awsError(w, http.StatusBadRequest, "ThrottlingException", "rate exceeded")
	case errors.Is(err, errDenied):
		awsError(w, http.StatusBadRequest, "AccessDeniedException", fmt.Sprintf("user is not authorized to use key %s", key))
	case errors.Is(err, errNotFound):
		awsError(w, http.StatusBadRequest, "NotFoundException", fmt.Sprintf("key %s does not exist", key))
	case errors.Is(err, errWrongKey):
		awsError(w, http.StatusBadRequest, "IncorrectKeyException", "the ciphertext was not encrypted under the key given")
	default:
		awsError(w, http.StatusBadRequest, "InvalidCiphertextException", "")
	}
	return true
}

func awsError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", typ)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(v)
}

// Env returns the environment a process needs to reach this server with
// the real AWS SDK and no other AWS configuration: the KMS endpoint, static
// test credentials, and no instance metadata, config or credentials file.
func (a *AWS) Env() map[string]string {
	return map[string]string{
		"AWS_ENDPOINT_URL_KMS": a.URL, "AWS_ENDPOINT_URL_STS": a.URL,
		"AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret",
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
	}
}
