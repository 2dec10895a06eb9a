package cli

import (
	"testing"

	"kseal.dev/kseal/pkg/keys"
)

// TestEveryProviderDeclaresCredentialEnv: each provider linked into kseal
// (one identity source each) declared the environment variables of its
// credentials, and create --from-env-file-allow-environ refuses every one
// of them, in any case.
func TestEveryProviderDeclaresCredentialEnv(t *testing.T) {
	sources := keys.IdentitySources()
	if len(sources) < 4 {
		t.Fatalf("identity sources %q: the providers are not linked in", sources)
	}
	for _, p := range sources {
		t.Run(p, func(t *testing.T) {
			prefixes := keys.CredentialEnv(p)
			if len(prefixes) == 0 {
				t.Fatalf("provider %q declared no credential environment variables (keys.Provider.CredentialEnv)", p)
			}
			for _, pre := range prefixes {
				for _, name := range []string{pre + "X", pre + "x"} {
					if !credentialEnv(name) {
						t.Errorf("%s is copied from the environment", name)
					}
					if !steeringName(name) {
						t.Errorf("exec-env --allow-any sets %s", name)
					}
				}
			}
		})
	}
}

// TestCredentialEnv names the variables each provider reads.
func TestCredentialEnv(t *testing.T) {
	for _, tc := range []struct {
		name string
		want bool
	}{
		{"KSEAL_AGE_KEY", true},
		{"KSEAL_AGE_KEY_FILE", true},
		{"SOPS_AGE_KEY_CMD", true},
		{"AWS_SECRET_ACCESS_KEY", true},
		{"AWS_CONTAINER_AUTHORIZATION_TOKEN", true},
		{"aws_session_token", true},
		{"GOOGLE_APPLICATION_CREDENTIALS", true},
		{"CLOUDSDK_AUTH_ACCESS_TOKEN_FILE", true},
		{"GCE_METADATA_HOST", true},
		{"VAULT_TOKEN", true},
		{"AZURE_CLIENT_SECRET", true},
		{"DATABASE_URL", false},
		{"KUBECONFIG", false}, // a path; the cluster's credentials are in the file
		{"HOME", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := credentialEnv(tc.name); got != tc.want {
				t.Errorf("credentialEnv(%q) = %v, want %v", tc.name, got, tc.want)
			}
		})
	}
}

// TestSteeringName: the last line of exec-env --allow-any, including the
// variables of the attacks of issue 17.
func TestSteeringName(t *testing.T) {
	for _, tc := range []struct {
		name string
		want bool
	}{
		{"PATH", true},
		{"path", true},
		{"LD_PRELOAD", true},
		{"XDG_CONFIG_HOME", true},
		{"PYTHONWARNINGS", true},
		{"BROWSER", true},
		{"PSQLRC", true},
		{"AWS_CONFIG_FILE", true},
		{"KUBECTL_EXTERNAL_DIFF", true},
		{"DOCKER_HOST", true},
		{"VAULT_ADDR", true},
		{"LUA_INIT", true},
		{"LUA_INIT_5_4", true},
		{"ZDOTDIR", true},
		{"npm_config_script_shell", true},
		{"GIT_SSH_COMMAND", true},
		{"GOFLAGS", true},
		{"DATABASE_URL", false},
		{"password", false},
		{"GOTIFY_TOKEN", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := steeringName(tc.name); got != tc.want {
				t.Errorf("steeringName(%q) = %v, want %v", tc.name, got, tc.want)
			}
		})
	}
}
