package cli

import (
	"strings"

	"github.com/spf13/cobra"
)

// examples are the --help examples of commands that do not set their own,
// by command path below the root ("" is the root). TestEveryCommandHasExample
// fails on a command with neither, and on an entry naming no command.
var examples = map[string]string{
	"": `  kseal keygen -o ~/.config/kseal/keys.txt > me.pub
  kseal seal --recipients-file me.pub -f secret.yaml > sealed.yaml
  kseal decrypt sealed.yaml | kubectl apply -f -
  kseal <command> --help`,
	"keys": `  kseal keys backup -r age1… > kseal-keys.backup.yaml
  kseal keys restore --identity offline.key --expect-key-id 3a620bda526442be kseal-keys.backup.yaml | kubectl create -f -`,
	"keys restore": `  kseal keys restore --identity offline.key --expect-key-id 3a620bda526442be kseal-keys.backup.yaml | kubectl create -f -
  kseal keys restore --identity offline.key --expect-key-id ID1 --expect-key-id ID2 backup.yaml > keys.yaml`,
	"fetch-recipients": `  kseal fetch-recipients -o cluster.pub
  kseal fetch-recipients --all --expect-key-id 3a620bda526442be -o cluster.pub
  kubectl -n kseal-system port-forward deploy/kseal-controller 8082 &
  kseal fetch-recipients --url http://127.0.0.1:8082/v1/recipients -o cluster.pub`,
	"diff-view": `  git config diff.kseal.textconv 'kseal diff-view'
  kseal diff-view db.yaml
  kseal diff-view --no-decrypt db.yaml        # SHA-256 of the ciphertext, never plaintext`,
	"set": `  printf %s "$TOKEN" | kseal set -f api.yaml --recipients-file cluster.pub --from-file token=-
  kseal set -f api.yaml --from-file token=<(pass show api) --recipients-file cluster.pub
  kseal set -f api.yaml --dry-run --from-file token=-  < token.txt`,
	"unset": `  kseal unset -f api.yaml --recipients-file cluster.pub old-token
  kseal unset -f db.yaml --name db --dry-run password`,
	"import": `  kseal import sealed-secrets --keys sealed-secrets-keys.yaml -r age1… -R -i k8s/
  kseal import sops -r age1… -R -i k8s/`,
	"keygen": `  kseal keygen -o ~/.config/kseal/keys.txt > me.pub
  kseal keygen --x25519 -o ci.key > ci.pub`,
	"merge-driver": `  git config merge.kseal.driver 'kseal merge-driver %O %A %B %P'
  git config merge.kseal.driver 'kseal merge-driver --recipients-file clusters/prod.pub %O %A %B %P'`,
	"decrypt": `  kseal decrypt db.yaml | kubectl apply -f -
  kseal decrypt --identity ci.key -R k8s/ | kubectl apply -f -
  kseal decrypt -o json db.yaml | jq -r '.data.password | @base64d'`,
	"inspect": `  kseal inspect db.yaml                       # no key needed
  kseal inspect --json -R k8s/ | jq '.[].recipients'`,
	"verify": `  kseal verify db.yaml
  kseal verify -R k8s/ -o json > verify.json   # CI: exit 3 on any failure`,
	"policy": `  kseal policy check
  kseal policy explain k8s/orders/db.yaml
  kseal policy render aws > key-policies.json`,
	"policy check": `  kseal policy check                          # exit 4 on findings
  kseal policy check -o json > findings.json
  kseal policy check --plaintext-only $(git diff --cached --name-only)`,
	"policy explain": `  kseal policy explain k8s/orders/db.yaml
  kseal policy explain orders/db`,
	"policy render": `  kseal policy render aws --admin arn:aws:iam::123456789012:role/admin > key-policies.json
  kseal policy render gcp`,
	"version": `  kseal version
  kseal --version`,
	"krm": `  kustomize build --enable-alpha-plugins --enable-exec overlays/prod | kubectl apply -f -
  kseal krm < resource-list.yaml`,
	"rotate": `  kseal rotate --recipients-file cluster.pub -i db.yaml
  kseal rotate -R -i k8s/                      # under kseal.yaml: the policy's keys`,
}

// applyExamples gives every command of root that has no example its entry
// of examples.
func applyExamples(root *cobra.Command) {
	walkCommands(root, func(c *cobra.Command) {
		if c.Example == "" {
			c.Example = examples[commandKey(c)]
		}
	})
}

// walkCommands calls fn on c and every command below it.
func walkCommands(c *cobra.Command, fn func(*cobra.Command)) {
	fn(c)
	for _, sub := range c.Commands() {
		walkCommands(sub, fn)
	}
}

// commandKey is c's path below the root: "policy check", "" for the root.
func commandKey(c *cobra.Command) string {
	var parts []string
	for ; c.HasParent(); c = c.Parent() {
		parts = append([]string{c.Name()}, parts...)
	}
	return strings.Join(parts, " ")
}
