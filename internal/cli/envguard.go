package cli

import (
	"regexp"
	"strings"
)

// envIdentifier is what a shell accepts as a variable name.
var envIdentifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// credentialEnvPrefixes name environment variables that hold the
// credentials of kseal and of the tools around it: an env file from a
// repository must not copy them into a Secret.
var credentialEnvPrefixes = []string{"KSEAL_", "SOPS_", "AWS_", "GOOGLE_", "VAULT_", "AZURE_"}

// credentialEnv reports whether name is a credential variable that
// --from-env-file never copies.
func credentialEnv(name string) bool {
	u := strings.ToUpper(name)
	for _, p := range credentialEnvPrefixes {
		if strings.HasPrefix(u, p) {
			return true
		}
	}
	return false
}

// steeringEnv lists variables that change how a program, its loader or a
// shell behaves, or where it finds its commands and credentials: exec-env
// does not let a sealed value set them unless --allow-override names them.
var steeringEnv = map[string]bool{
	"PATH": true, "HOME": true, "SHELL": true, "USER": true, "LOGNAME": true,
	"TMPDIR": true, "IFS": true, "ENV": true, "BASH_ENV": true, "CDPATH": true,
	"PS1": true, "PS2": true, "PS4": true, "PROMPT_COMMAND": true, "SHELLOPTS": true,
	"BASHOPTS": true, "GLOBIGNORE": true, "INPUTRC": true, "HISTFILE": true,
	"PYTHONPATH": true, "PYTHONSTARTUP": true, "PYTHONHOME": true, "PERL5LIB": true,
	"PERL5OPT": true, "RUBYLIB": true, "RUBYOPT": true, "NODE_OPTIONS": true,
	"NODE_PATH": true, "JAVA_TOOL_OPTIONS": true, "_JAVA_OPTIONS": true,
	"CLASSPATH": true, "GOFLAGS": true, "GOPATH": true, "GOROOT": true,
	"EDITOR": true, "VISUAL": true, "PAGER": true, "KUBECONFIG": true,
	"SSL_CERT_FILE": true, "SSL_CERT_DIR": true, "HTTP_PROXY": true,
	"HTTPS_PROXY": true, "NO_PROXY": true, "ALL_PROXY": true,
	"http_proxy": true, "https_proxy": true, "no_proxy": true, "all_proxy": true,
}

// steeringEnvPrefixes are families of such variables.
var steeringEnvPrefixes = []string{"LD_", "DYLD_", "BASH_FUNC_", "GIT_", "SSH_", "KSEAL_", "SOPS_", "GCONV_", "LOCPATH", "MALLOC_", "GLIBC_"}

// steeringName reports whether exec-env refuses name as a sealed key by
// default.
func steeringName(name string) bool {
	if steeringEnv[name] {
		return true
	}
	for _, p := range steeringEnvPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}
