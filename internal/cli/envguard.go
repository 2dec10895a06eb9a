package cli

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"kseal.dev/kseal/pkg/keys"
)

// envIdentifier is what a shell accepts as a variable name.
var envIdentifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ownCredentialEnvPrefixes are credential variables no provider package
// declares: kseal's own (every KSEAL_ setting, whatever provider reads
// it), and those of sops, which kseal import runs: SOPS_* and the Azure
// Key Vault credentials it reads (AZURE_*), for which kseal has no
// provider. The providers declare theirs (keys.Provider.CredentialEnv).
var ownCredentialEnvPrefixes = []string{"KSEAL_", "SOPS_", "AZURE_"}

// credentialEnvPrefixes lists the prefixes of credential variables, sorted
// and upper-case.
func credentialEnvPrefixes() []string {
	return keys.SortedSet(append(slices.Clone(ownCredentialEnvPrefixes), keys.CredentialEnvPrefixes()...))
}

// credentialEnv reports whether name is a credential variable that
// --from-env-file never copies.
func credentialEnv(name string) bool {
	return hasPrefixFold(name, credentialEnvPrefixes())
}

func hasPrefixFold(name string, prefixes []string) bool {
	u := strings.ToUpper(name)
	for _, p := range prefixes {
		if strings.HasPrefix(u, strings.ToUpper(p)) {
			return true
		}
	}
	return false
}

// steeringEnv lists variables that change how a program, its loader or a
// shell behaves, or where it finds its commands, configuration and
// credentials. It is the last line of exec-env --allow-any only: such a
// list is never complete, which is why exec-env exports nothing but the
// names its caller chose unless --allow-any is given. Compared without
// regard to case.
var steeringEnv = []string{
	"PATH", "HOME", "SHELL", "USER", "LOGNAME", "TMPDIR", "IFS", "ENV",
	"BASH_ENV", "CDPATH", "PS1", "PS2", "PS4", "PROMPT_COMMAND", "SHELLOPTS",
	"BASHOPTS", "GLOBIGNORE", "INPUTRC", "HISTFILE", "ZDOTDIR", "PERL5LIB",
	"PERL5OPT", "PERLLIB", "RUBYLIB", "RUBYOPT", "NODE_OPTIONS", "NODE_PATH",
	"JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS", "CLASSPATH",
	"EDITOR", "VISUAL", "PAGER", "MANPAGER", "BROWSER", "LESSOPEN",
	"LESSCLOSE", "KUBECONFIG", "KUBE_EDITOR", "SSL_CERT_FILE", "SSL_CERT_DIR",
	"CURL_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "NODE_EXTRA_CA_CERTS",
	"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY", "PSQLRC",
	"PGSERVICEFILE", "PGPASSFILE", "PGSYSCONFDIR", "MYSQL_HOME", "WGETRC",
	"CURL_HOME", "GNUPGHOME", "LUA_INIT", "LUA_PATH", "LUA_CPATH", "GOFLAGS",
	"GOPATH", "GOROOT", "GOENV", "GOPROXY", "GOTOOLCHAIN", "GOSUMDB",
	"GONOSUMDB", "GOPRIVATE", "GOINSECURE", "GOBIN", "GOCACHE", "GOMODCACHE",
	"GODEBUG", "GOEXPERIMENT",
}

// steeringEnvPrefixes are families of such variables; the credential
// variables of every provider (credentialEnvPrefixes) count too.
var steeringEnvPrefixes = []string{
	"LD_", "DYLD_", "BASH_FUNC_", "GIT_", "SSH_", "GCONV_", "LOCPATH",
	"MALLOC_", "GLIBC_", "XDG_", "PYTHON", "NPM_CONFIG_", "YARN_",
	"PIP_", "GEM_", "BUNDLE_", "CARGO_", "RUSTC", "DOCKER_", "KUBECTL_",
	"HELM_", "CLOUDSDK_", "GCE_METADATA_", "LUA_INIT_", "PERL",
}

// steeringName reports whether exec-env --allow-any refuses name.
func steeringName(name string) bool {
	return slices.ContainsFunc(steeringEnv, func(s string) bool { return strings.EqualFold(s, name) }) ||
		hasPrefixFold(name, steeringEnvPrefixes) || credentialEnv(name)
}

// steeringPrefix reports whether a name that starts with p could be on
// the steering list: p starts a listed name or family, or a family starts
// p.
func steeringPrefix(p string) bool {
	u := strings.ToUpper(p)
	for _, n := range steeringEnv {
		if strings.HasPrefix(n, u) {
			return true
		}
	}
	for _, f := range append(slices.Clone(steeringEnvPrefixes), credentialEnvPrefixes()...) {
		f = strings.ToUpper(f)
		if strings.HasPrefix(f, u) || strings.HasPrefix(u, f) {
			return true
		}
	}
	return false
}

var (
	// errEnvKey: a sealed key exec-env cannot pass as a variable name.
	errEnvKey = errors.New("not an environment variable name")
	// errEnvSteering: a sealed key exec-env --allow-any does not let set a
	// variable that steers programs.
	errEnvSteering = errors.New("would set an environment variable that steers programs, their loader or the shell")
)

// execEnvChoice is what exec-env exports: the sealed keys named with
// --only (all with --prefix alone), each under PREFIX+KEY; or, with
// --allow-any, every key under its own name but those on the steering
// list.
type execEnvChoice struct {
	only     []string
	prefix   string
	allowAny bool
}

// check refuses a choice that leaves the exported names to the sealed
// object.
func (c execEnvChoice) check() error {
	switch {
	case c.allowAny && (len(c.only) > 0 || c.prefix != ""):
		return usagef("--allow-any cannot be combined with --only or --prefix")
	case !c.allowAny && len(c.only) == 0 && c.prefix == "":
		return hintError{
			usagef("exec-env exports only the sealed keys you choose (anyone with the public key can seal a key such as XDG_CONFIG_HOME or PYTHONWARNINGS that makes your command run theirs)"),
			"pass --only KEY[,KEY...] to export those keys, --prefix APP_ to export every key K as APP_K, or --allow-any to export every key under its own name (only a denylist between the sealed file and your command)",
		}
	}
	for _, k := range c.only {
		if k == "" {
			return usagef("--only: an empty key")
		}
	}
	if c.prefix != "" {
		if !envIdentifier.MatchString(c.prefix) {
			return usagef("--prefix %q: not the start of an environment variable name (letters, digits and '_', not starting with a digit)", c.prefix)
		}
		if steeringPrefix(c.prefix) {
			return usagef("--prefix %q: names starting with it may steer programs (such as PATH, LD_*, PYTHON*, GIT_*, AWS_*); choose your application's own prefix, such as APP_", c.prefix)
		}
	}
	return nil
}

// vars returns the NAME=VALUE entries to add to the command's
// environment, or an error naming the field at fault (never a value).
func (c execEnvChoice) vars(values map[string][]byte) ([]string, error) {
	names := c.only
	if len(names) == 0 {
		names = slices.Sorted(maps.Keys(values))
	}
	var env []string
	for _, k := range names {
		v, ok := values[k]
		if !ok {
			return nil, fmt.Errorf("--only %s: no such value (it has %s)", k, strings.Join(slices.Sorted(maps.Keys(values)), ", "))
		}
		name := c.prefix + k
		if !envIdentifier.MatchString(name) {
			leave := "leave it out with --only, or use exec-file"
			if len(c.only) > 0 {
				leave = "use exec-file"
			}
			return nil, fmt.Errorf("data.%s: %q is %w (letters, digits and '_', not starting with a digit); %s", k, name, errEnvKey, leave)
		}
		if c.allowAny && steeringName(name) {
			return nil, fmt.Errorf("data.%s: %w; name it with --only %s if it is meant to", k, errEnvSteering, k)
		}
		if strings.IndexByte(string(v), 0) >= 0 {
			return nil, fmt.Errorf("data.%s: holds a NUL byte, which an environment variable cannot (use exec-file)", k)
		}
		env = append(env, name+"="+string(v))
	}
	return env, nil
}
