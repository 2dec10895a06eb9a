package cli

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ksealv1 "kseal.dev/kseal/api/v1alpha1"
	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/keys"
	"kseal.dev/kseal/pkg/keys/agekey"
	"kseal.dev/kseal/pkg/manifest"
)

func newKeysCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Back up and restore the cluster keys of kseal-controller"}
	cmd.AddCommand(newKeysBackupCmd(e), newKeysRestoreCmd(e))
	return cmd
}

// keysBackupOptions are the flags of keys backup.
type keysBackupOptions struct {
	cluster clusterFlags
	target  recipientSource
	output  outputFlag
}

func newKeysBackupCmd(e *env) *cobra.Command {
	o := &keysBackupOptions{}
	cmd := &cobra.Command{
		Use:   "backup",
		Short: "Export the controller's private keys, encrypted to an offline recipient",
		Long: `backup writes the controller's key Secrets as encrypted Secrets (kseal's own
format) sealed to the recipients you give, typically an offline age key kept
in a safe. A backup holds each key Secret's name, namespace, kseal's own
labels and annotations, and its encrypted data: nothing else the Secret
carries (a last-applied copy holds the key in clear). It prints the key IDs
it backed up: keep them with the backup, kseal keys restore asks for them.`,
		Example: `  kseal keys backup -r age1… > kseal-keys.backup.yaml
  kseal keys restore --identity offline.key --expect-key-id 3a620bda526442be kseal-keys.backup.yaml | kubectl create -f -`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runKeysBackup(e, o)
		},
	}
	o.cluster.register(cmd)
	o.target.rcpt.register(cmd)
	o.target.noPolicy = true // an offline key of the operator's choosing, never a service's
	o.output.register(cmd)
	return cmd
}

// runKeysBackup reads the controller's key Secrets and writes them sealed
// to the recipients given.
func runKeysBackup(e *env, o *keysBackupOptions) error {
	if err := o.output.check(false); err != nil {
		return err
	}
	cf := &o.cluster
	cs, err := cf.core()
	if err != nil {
		return err
	}
	list, err := cs.secrets(e.ctx, cf.namespace, metav1.ListOptions{LabelSelector: ksealv1.LabelManaged + "=" + ksealv1.ManagedClusterKey})
	if err != nil {
		return fmt.Errorf("listing cluster keys in %s: %w", cf.namespace, err)
	}
	if len(list.Items) == 0 {
		return fmt.Errorf("no cluster keys in namespace %s", cf.namespace)
	}
	b, ids, err := backupKeys(e, &o.target, list.Items)
	if err != nil {
		return err
	}
	if b, err = o.output.convert(b); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "kseal: backed up %s from %s, key IDs %s\n", countNoun(len(list.Items), "cluster key"), cf.namespace, strings.Join(ids, ", "))
	_, err = e.stdout.Write(b)
	return err
}

// backupKeys seals the key Secrets for the target's recipients and returns
// the stream and the key IDs of the keys.
func backupKeys(e *env, target *recipientSource, secrets []corev1.Secret) ([]byte, []string, error) {
	slices.SortFunc(secrets, func(a, b corev1.Secret) int { return strings.Compare(a.Name, b.Name) })
	var docs, ids []string
	for _, s := range secrets {
		id, err := clusterKeyID(s.Data)
		if err != nil {
			return nil, nil, fmt.Errorf("cluster key Secret %s/%s: %w", s.Namespace, s.Name, err)
		}
		ids = append(ids, id)
		// Only what a restore needs: nothing the API server or an apply
		// tool added can ride along.
		t := crypto.Target{Namespace: s.Namespace, Name: s.Name, Template: crypto.Template{
			Labels: ksealOwn(s.Labels), Annotations: ksealOwn(s.Annotations), Type: string(s.Type),
		}}
		text, err := manifest.SecretText(t, "", s.Data)
		if err != nil {
			return nil, nil, err
		}
		docs = append(docs, text)
	}
	strm, err := manifest.Parse([]byte(strings.Join(docs, "---\n")))
	if err != nil {
		return nil, nil, err
	}
	spec := sealSpec{form: formEncrypted, target: target}
	for _, d := range strm.Docs {
		if err := sealPlain(e, "", d, spec); err != nil {
			return nil, nil, err
		}
	}
	b, err := strm.Bytes()
	return b, ids, err
}

// ksealOwn keeps the labels or annotations that are kseal's own.
func ksealOwn(m map[string]string) map[string]string {
	out := maps.Clone(m)
	maps.DeleteFunc(out, func(k, _ string) bool { return !strings.HasPrefix(k, "kseal.dev/") })
	return out
}

// clusterKeyID parses the identity a cluster key Secret holds and returns
// its key ID (what objects sealed to it name in their wraps).
func clusterKeyID(data map[string][]byte) (string, error) {
	for k := range data {
		if k != ksealv1.ClusterKeyField && k != ksealv1.ClusterRecipientField {
			return "", fmt.Errorf("not a cluster key: data.%s is not a cluster key field (want %q and optionally %q)", k, ksealv1.ClusterKeyField, ksealv1.ClusterRecipientField)
		}
	}
	if data[ksealv1.ClusterKeyField] == nil {
		return "", fmt.Errorf("not a cluster key: no data.%s", ksealv1.ClusterKeyField)
	}
	id, err := agekey.ParseIdentity(string(data[ksealv1.ClusterKeyField]))
	if err != nil {
		return "", fmt.Errorf("data.%s: %w", ksealv1.ClusterKeyField, err)
	}
	own, ok := id.(keys.OwnRecipient)
	if !ok {
		return "", errors.New("the identity names no recipient")
	}
	r, err := own.OwnRecipient()
	if err != nil {
		return "", err
	}
	// The recipient copy must be the identity's own: a restore that
	// published a different recipient would have teams seal to a key the
	// cluster does not hold.
	if pub, ok := data[ksealv1.ClusterRecipientField]; ok {
		pr, err := agekey.ParseRecipient(strings.TrimSpace(string(pub)))
		if err != nil || pr.KeyID() != r.KeyID() {
			return "", fmt.Errorf("data.%s is not the recipient of data.%s", ksealv1.ClusterRecipientField, ksealv1.ClusterKeyField)
		}
	}
	return r.KeyID(), nil
}

// keysRestoreOptions are the flags of keys restore.
type keysRestoreOptions struct {
	ids    identityFlags
	rcpts  recipientFlags
	expect []string
	output outputFlag
}

func newKeysRestoreCmd(e *env) *cobra.Command {
	o := &keysRestoreOptions{}
	cmd := &cobra.Command{
		Use:   "restore --identity OFFLINE.key --expect-key-id ID... BACKUP",
		Short: "Open a backup of the cluster keys into Secrets to create, checking it is the one you expect",
		Long: `restore opens a backup written by kseal keys backup with the offline
identity and prints the key Secrets, to be created (never applied: kubectl
apply would keep the private key in clear in its last-applied annotation):

  kseal keys restore --identity offline.key --expect-key-id ID BACKUP | kubectl create -f -

Anyone who holds the backup's public recipient can seal a backup, or add
to one, without its key. So restore refuses a backup unless every object in
it is a cluster key sealed whole (no section added later), carries no
more than kseal's own labels and annotations, and the keys it holds are
exactly the ones you expect: the key IDs keys backup printed
(--expect-key-id), or those of the cluster recipients you seal to
(--recipients-file, e.g. what kseal fetch-recipients --all saved).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runKeysRestore(e, o, args)
		},
	}
	o.ids.register(cmd)
	cmd.Flags().StringArrayVar(&o.expect, "expect-key-id", nil, "key ID the backup must hold (repeatable); with --recipients-file, the backup holds exactly these keys")
	cmd.Flags().StringArrayVar(&o.rcpts.files, "recipients-file", nil, "the cluster's recipients (kseal fetch-recipients --all): their key IDs are expected (repeatable)")
	o.output.register(cmd)
	return cmd
}

// runKeysRestore opens the backup args names into the key Secrets it
// holds, when they are exactly the keys expected.
func runKeysRestore(e *env, o *keysRestoreOptions, args []string) error {
	if err := o.output.check(false); err != nil {
		return err
	}
	want := slices.Clone(o.expect)
	if len(o.rcpts.files) > 0 {
		rs, err := o.rcpts.resolve(e)
		if err != nil {
			return err
		}
		for _, r := range rs {
			want = append(want, r.KeyID())
		}
	}
	if len(want) == 0 {
		return usagef("say which keys the backup must hold: --expect-key-id (the IDs keys backup printed) or --recipients-file (the cluster's recipients)")
	}
	ids, err := o.ids.resolve(e)
	if err != nil {
		return err
	}
	files := fileFlags{}
	ins, err := files.read(e, args)
	if err != nil {
		return err
	}
	if err := restoreKeys(e, ins[0], ids, want); err != nil {
		return err
	}
	return files.writeAs(e, ins, &o.output)
}

// restoreKeys opens every document of the backup in into the key Secret it
// stands for, refusing anything but cluster keys sealed whole, and a set
// of keys other than want.
func restoreKeys(e *env, in *input, ids []keys.Identity, want []string) error {
	var got []string
	for _, d := range in.strm.Docs {
		if d.Kind != manifest.KindEncrypted {
			return fmt.Errorf("%s: doc %d: not an encrypted Secret: a backup holds nothing else", in.name, d.Index)
		}
		s, o, err := openDoc(e, d, ids)
		if err != nil {
			return fmt.Errorf("%s: %w", in.name, err)
		}
		if n := len(s.Envelope.Sections); n != 1 {
			return fmt.Errorf("%s: %w", in.name, d.Err(fmt.Errorf("%d sections: sections after the first were added later, which needs only the backup's public recipient; a backup is sealed whole", n)))
		}
		tmpl := o.Target().Template
		if !maps.Equal(ksealOwn(tmpl.Labels), tmpl.Labels) || !maps.Equal(ksealOwn(tmpl.Annotations), tmpl.Annotations) ||
			tmpl.Labels[ksealv1.LabelManaged] != ksealv1.ManagedClusterKey {
			return fmt.Errorf("%s: %w", in.name, d.Err(fmt.Errorf("not a cluster key as kseal keys backup writes it: labels and annotations other than kseal.dev/ ones, or no %s=%s label", ksealv1.LabelManaged, ksealv1.ManagedClusterKey)))
		}
		id, err := clusterKeyID(o.Values)
		if err != nil {
			return fmt.Errorf("%s: %w", in.name, d.Err(err))
		}
		if !slices.Contains(want, id) {
			return hintError{fmt.Errorf("%s: %w", in.name, d.Err(fmt.Errorf("holds key %s, which is not one you expect (%s): refusing the backup", id, strings.Join(want, ", ")))),
				"pass --expect-key-id " + id + " if this is a key of yours (kseal inspect of your sealed files lists the key IDs they are sealed to)"}
		}
		got = append(got, id)
		if err := d.ToPlain(o.Values); err != nil {
			return err
		}
	}
	for _, id := range want {
		if !slices.Contains(got, id) {
			return fmt.Errorf("%s: the backup lacks key %s, which you expect: refusing it (nothing written)", in.name, id)
		}
	}
	in.dirty = true
	return nil
}
