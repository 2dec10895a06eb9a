package cli

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"kseal.dev/kseal/pkg/manifest"
)

// adoptee is a Secret in the cluster that a converted object will manage,
// and what the import found it to hold.
type adoptee struct {
	namespace, name string
	from            string // "sealed-secrets" or "sops"
	typ             string // the Secret's type, Opaque when none
	digest          string // dataDigest of what the import decrypted
}

// adopt records that the plain Secret d (about to be sealed) stands for the
// Secret namespace/name in the cluster.
func (o *importOpts) adopt(d *manifest.Doc, namespace, from string) error {
	if namespace == "" {
		return d.Err(errNoNamespace)
	}
	values, err := d.Plain()
	if err != nil {
		return err
	}
	typ := d.Template().Type
	if typ == "" {
		typ = "Opaque"
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.salt == "" {
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			return err
		}
		o.salt = hex.EncodeToString(b)
	}
	a := adoptee{namespace, d.Node().GetName(), from, typ, dataDigest(o.salt, values)}
	for _, b := range o.adopted {
		switch {
		case b == a:
			return nil // the same Secret converted twice (say, in two scopes)
		case b.namespace == a.namespace && b.name == a.name:
			return d.Err(fmt.Errorf("converts into Secret %s/%s, which another converted object holds other values for: the adopt script can hand it over to one of them only; drop one file from the import", a.namespace, a.name))
		}
	}
	o.adopted = append(o.adopted, a)
	return nil
}

// dataDigest is what the adopt script computes of a live Secret's data:
// SHA-256 of the salt and of one line KEY=BASE64 per value, sorted by key,
// as kubectl's go-template prints them. The salt, random per script, keeps
// a digest from being looked up in a table of common values; the script
// still holds a check value of each Secret's data, so it is written 0700
// and docs/migrate.md says to delete it after use.
func dataDigest(salt string, values map[string][]byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n", salt)
	for _, k := range slices.Sorted(maps.Keys(values)) {
		fmt.Fprintf(h, "%s=%s\n", k, base64.StdEncoding.EncodeToString(values[k]))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// adoptScript is a shell script that hands each converted object's Secret
// over to kseal-controller in one atomic patch per Secret: the owner
// reference to the bitnami SealedSecret goes (so neither the garbage
// collector nor the sealed-secrets controller acts on it again), the
// sealed-secrets annotations that would let that controller take it back
// go, kubectl's last-applied copy of the plaintext goes, and the owner's
// consent kseal.dev/adopt: "true" is written. Run it before the converted
// files reach the cluster and before the old objects are deleted.
//
// The public sealing keys of the old tools let anyone write an object that
// names any Secret, so the script hands over only the Secret the import
// was made from. Before anything else it checks every name is one the API
// server accepts; then, for every Secret, that it is owned exactly as the
// import assumed (by the bitnami SealedSecret of the same name, or by
// nothing for sops), that it is no Helm release record and no token, and
// that its type and data are what the import decrypted. When any check
// fails it changes nothing and exits 1, naming the Secret. Each patch
// carries the UID and resourceVersion the check saw, so a Secret that
// changed in between is refused by the API server. A Secret that does not
// exist is skipped. kubectl's options always end before a name.
func (o *importOpts) adoptScript() string {
	sort.Slice(o.adopted, func(i, j int) bool {
		a, b := o.adopted[i], o.adopted[j]
		return a.namespace+"/"+a.name < b.namespace+"/"+b.name
	})
	var b strings.Builder
	b.WriteString(adoptPrologue)
	fmt.Fprintf(&b, "salt=%s\n", o.salt)
	for _, a := range o.adopted {
		fmt.Fprintf(&b, "names %s %s\n", shellQuote(a.namespace), shellQuote(a.name))
	}
	for i, a := range o.adopted {
		want := ""
		if a.from == "sealed-secrets" {
			want = "bitnami.com/v1alpha1/SealedSecret/" + a.name + "/true;"
		}
		fmt.Fprintf(&b, "check %d %s %s %s %s %s\n", i, shellQuote(a.namespace), shellQuote(a.name), shellQuote(want), shellQuote(a.typ), a.digest)
	}
	b.WriteString("[ \"$refused\" = 0 ] || { echo \"kseal adopt: $refused Secret(s) refused; nothing changed\" >&2; exit 1; }\n")
	for i, a := range o.adopted {
		fmt.Fprintf(&b, "adopt %d %s %s\n", i, shellQuote(a.namespace), shellQuote(a.name))
	}
	return b.String()
}

// adoptState is the kubectl go-template adoptScript reads a Secret with:
// "UID RESOURCEVERSION", the owners as APIVERSION/KIND/NAME/CONTROLLER;
// each, the type, then one line KEY=BASE64 per value (go-template ranges
// over a map in key order).
const adoptState = `{{.metadata.uid}} {{.metadata.resourceVersion}}
{{range .metadata.ownerReferences}}{{.apiVersion}}/{{.kind}}/{{.name}}/{{.controller}};{{end}}
{{.type}}
{{range $k, $v := .data}}{{$k}}={{$v}}
{{end}}`

// adoptPrologue defines the functions of adoptScript. adopt's JSON merge
// patch is one request: the UID and resourceVersion in it are
// preconditions the API server checks.
var adoptPrologue = `#!/bin/sh
# Written by kseal import: hands these Secrets over to kseal-controller.
# Run it before the converted files reach the cluster (docs/migrate.md).
# It changes nothing unless every Secret is the one the import was made
# from. It holds a salted digest of each Secret's data: delete it after use.
set -eu
LC_ALL=C
export LC_ALL
refused=0
state=$(mktemp -d)
trap 'rm -rf "$state"' EXIT
# names NAMESPACE NAME: both must be what the API server accepts, or
# nothing runs.
names() {
	case $1 in
	''|*[!abcdefghijklmnopqrstuvwxyz0123456789-]*|-*|*-) bad "namespace" "$1" ;;
	esac
	[ ${#1} -le 63 ] || bad "namespace" "$1"
	case $2 in
	''|*[!abcdefghijklmnopqrstuvwxyz0123456789.-]*|[.-]*|*[.-]|*..*|*.-*|*-.*) bad "name" "$2" ;;
	esac
	[ ${#2} -le 253 ] || bad "name" "$2"
}
bad() {
	echo "kseal adopt: refusing to run: $1 '$2' is not one the API server accepts; nothing changed" >&2
	exit 1
}
sha256() {
	if command -v sha256sum >/dev/null 2>&1; then sha256sum; else shasum -a 256; fi | cut -d ' ' -f 1
}
# check I NAMESPACE NAME OWNERS TYPE DIGEST: the Secret must be owned by
# exactly OWNERS, be no Helm release record or token, and have TYPE and the
# data whose digest is DIGEST.
check() {
	kubectl get --namespace="$2" --ignore-not-found -o 'go-template=` + adoptState + `' -- "secret/$3" >"$state/$1"
	if [ ! -s "$state/$1" ]; then
		echo "kseal adopt: skipped Secret $2/$3: it does not exist" >&2
		return 0
	fi
	owners=$(sed -n 2p "$state/$1")
	typ=$(sed -n 3p "$state/$1")
	sum=$({ printf '%s\n' "$salt"; sed -n '4,$p' "$state/$1"; } | sha256)
	why=""
	case $3 in sh.helm.release.v1.*) why="a Helm release record" ;; esac
	case $typ in
	helm.sh/release.v1) why="a Helm release record" ;;
	kubernetes.io/service-account-token) why="a service account token" ;;
	esac
	if [ -n "$why" ]; then
		:
	elif [ "$owners" != "$4" ]; then
		why="owned by '${owners:-nothing}', the import expected '${4:-nothing}'"
	elif [ "$typ" != "$5" ]; then
		why="of type $typ, the import converted one of type $5"
	elif [ "$sum" != "$6" ]; then
		why="its data is not what the import decrypted (another Secret of that name)"
	fi
	if [ -n "$why" ]; then
		echo "kseal adopt: refused Secret $2/$3: $why" >&2
		refused=$((refused + 1))
	fi
}
# adopt I NAMESPACE NAME
adopt() {
	[ -s "$state/$1" ] || return 0
	uid=$(sed -n 1p "$state/$1")
	rv=${uid#* }
	uid=${uid%% *}
	kubectl patch --namespace="$2" --type=merge -p '{"metadata":{"uid":"'"$uid"'","resourceVersion":"'"$rv"'","ownerReferences":null,"annotations":{"kseal.dev/adopt":"true","sealedsecrets.bitnami.com/managed":null,"sealedsecrets.bitnami.com/patch":null,"kubectl.kubernetes.io/last-applied-configuration":null}}}' -- "secret/$3" >/dev/null
	echo "kseal adopt: adopted Secret $2/$3" >&2
}
`

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
