package controller

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ksealv1 "kseal.dev/kseal/api/v1alpha1"
	"kseal.dev/kseal/pkg/keys"
	"kseal.dev/kseal/pkg/keys/agekey"
)

// Fields of a cluster key Secret.
const (
	AnnotationCreated = "kseal.dev/created"
	KeyField          = ksealv1.ClusterKeyField
	RecipientField    = ksealv1.ClusterRecipientField
)

// Shorthands for the well-known names of the API package.
const (
	LabelManaged        = ksealv1.LabelManaged
	ManagedClusterKey   = ksealv1.ManagedClusterKey
	ManagedSecret       = ksealv1.ManagedSecret
	RecipientsConfigMap = ksealv1.RecipientsConfigMap
	RecipientsKey       = ksealv1.RecipientsKey
	AllRecipientsKey    = ksealv1.AllRecipientsKey
)

// KeyringOptions configure the cluster keypair.
type KeyringOptions struct {
	Namespace   string
	RenewPeriod time.Duration
	X25519      bool // classic keys instead of the post-quantum hybrid
}

// Keyring owns the cluster keypair: it generates a key on first start,
// renews it every RenewPeriod, keeps old keys for opening, and publishes the
// current recipient in a ConfigMap.
type Keyring struct {
	opts   KeyringOptions
	client client.Client
	reader client.Reader // uncached: key Secrets are read straight from the API server
	log    logr.Logger

	mu   sync.RWMutex
	keys []clusterKey // newest first
}

type clusterKey struct {
	name    string
	created time.Time
	id      *agekey.Identity
}

// NewKeyring returns a keyring; Ensure or Load fills it.
func NewKeyring(c client.Client, r client.Reader, log logr.Logger, opts KeyringOptions) *Keyring {
	return &Keyring{opts: opts, client: c, reader: r, log: log}
}

// Load reads the key Secrets from the API server.
func (k *Keyring) Load(ctx context.Context) error {
	var list corev1.SecretList
	if err := k.reader.List(ctx, &list, client.InNamespace(k.opts.Namespace), client.MatchingLabels{LabelManaged: ManagedClusterKey}); err != nil {
		return fmt.Errorf("listing cluster keys: %w", err)
	}
	var ks []clusterKey
	for i := range list.Items {
		s := &list.Items[i]
		k.dropLastApplied(ctx, s)
		id, err := agekey.ParseIdentity(string(s.Data[KeyField]))
		if err != nil {
			// Never log the data: it is the private key.
			k.log.Error(err, "ignoring unreadable cluster key", "secret", s.Namespace+"/"+s.Name)
			continue
		}
		created := s.CreationTimestamp.Time
		if t, err := time.Parse(time.RFC3339, s.Annotations[AnnotationCreated]); err == nil {
			created = t
		}
		ks = append(ks, clusterKey{name: s.Name, created: created, id: id.(*agekey.Identity)})
	}
	slices.SortFunc(ks, func(a, b clusterKey) int { return b.created.Compare(a.created) })
	k.mu.Lock()
	k.keys = ks
	k.mu.Unlock()
	keyCount.Set(float64(len(ks)))
	if len(ks) > 0 {
		keyAge.Set(time.Since(ks[0].created).Seconds())
	}
	return nil
}

// dropLastApplied removes the client-side apply annotations from the key
// Secret s. `kubectl apply` of a key Secret (a restore done the old way)
// leaves in kubectl.kubernetes.io/last-applied-configuration a copy of the
// whole Secret, private key included, in an annotation: every later
// `kubectl get -o yaml`, backup tool or audit of metadata would carry the
// key in clear. The removal is an Update conditional on the version read
// (RBAC grants the controller update, not patch, on Secrets); a failure is
// logged, naming the Secret and never the value, and the next Load tries
// again. The key is used either way: refusing it would stop every unseal
// without removing the copy.
func (k *Keyring) dropLastApplied(ctx context.Context, s *corev1.Secret) {
	var found []string
	for _, a := range ksealv1.LastAppliedAnnotations {
		if _, ok := s.Annotations[a]; ok {
			found = append(found, a)
		}
	}
	if len(found) == 0 {
		return
	}
	upd := s.DeepCopy()
	for _, a := range found {
		delete(upd.Annotations, a)
	}
	name := s.Namespace + "/" + s.Name
	if err := k.client.Update(ctx, upd); err != nil {
		k.log.Error(err, "cluster key Secret carries a client-side apply annotation, a clear copy of its private key; removing it failed, retrying on the next load (restore keys with kubectl create, not kubectl apply)", "secret", name, "annotations", found)
		return
	}
	s.Annotations, s.ResourceVersion = upd.Annotations, upd.ResourceVersion
	k.log.Info("removed the client-side apply annotation from a cluster key Secret: it held a clear copy of the private key (restore keys with kubectl create, not kubectl apply)", "secret", name, "annotations", found)
}

// Ensure loads the keys, generates a new one when there is none or the
// newest is older than the renew period, and publishes the recipients.
func (k *Keyring) Ensure(ctx context.Context, now time.Time) error {
	if err := k.Load(ctx); err != nil {
		return err
	}
	k.mu.RLock()
	need := len(k.keys) == 0 || now.Sub(k.keys[0].created) >= k.opts.RenewPeriod
	k.mu.RUnlock()
	if need {
		if err := k.generate(ctx, now); err != nil {
			return err
		}
		if err := k.Load(ctx); err != nil {
			return err
		}
	}
	return k.publish(ctx)
}

func (k *Keyring) generate(ctx context.Context, now time.Time) error {
	id, err := agekey.Generate(k.opts.X25519)
	if err != nil {
		return err
	}
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name:        fmt.Sprintf("kseal-key-%d", now.Unix()),
			Namespace:   k.opts.Namespace,
			Labels:      map[string]string{LabelManaged: ManagedClusterKey},
			Annotations: map[string]string{AnnotationCreated: now.UTC().Format(time.RFC3339)},
		},
		Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{KeyField: []byte(id.SecretString()), RecipientField: []byte(id.Recipient())},
	}
	if err := k.client.Create(ctx, s); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("storing new cluster key: %w", err)
	}
	k.log.Info("generated cluster key", "secret", s.Name, "keyID", id.KeyID(), "type", id.Type())
	return nil
}

func (k *Keyring) publish(ctx context.Context) error {
	cur, all := k.Recipients()
	if cur == "" {
		return nil
	}
	data := map[string]string{
		RecipientsKey:    "# kseal cluster recipient: seal to this key\n" + cur + "\n",
		AllRecipientsKey: strings.Join(all, "\n") + "\n",
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: RecipientsConfigMap, Namespace: k.opts.Namespace}}
	err := k.reader.Get(ctx, client.ObjectKeyFromObject(cm), cm)
	switch {
	case apierrors.IsNotFound(err):
		cm.Data = data
		cm.Labels = map[string]string{LabelManaged: "recipients"}
		return k.client.Create(ctx, cm)
	case err != nil:
		return err
	}
	if maps.Equal(cm.Data, data) {
		return nil
	}
	cm.Data = data
	return k.client.Update(ctx, cm)
}

// Identities returns the private keys, newest first.
func (k *Keyring) Identities() []keys.Identity {
	k.mu.RLock()
	defer k.mu.RUnlock()
	out := make([]keys.Identity, len(k.keys))
	for i, c := range k.keys {
		out[i] = c.id
	}
	return out
}

// Recipients returns the current recipient and all active ones, newest first.
func (k *Keyring) Recipients() (current string, all []string) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	for _, c := range k.keys {
		all = append(all, c.id.Recipient())
	}
	if len(all) > 0 {
		current = all[0]
	}
	return current, all
}

// KeyIDs returns the key IDs, newest first.
func (k *Keyring) KeyIDs() []string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	var out []string
	for _, c := range k.keys {
		out = append(out, c.id.KeyID())
	}
	return out
}

// Ready reports whether at least one key is loaded.
func (k *Keyring) Ready() bool {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return len(k.keys) > 0
}

// Start runs the renewal loop (a manager Runnable, leader only).
func (k *Keyring) Start(ctx context.Context) error {
	interval := min(k.opts.RenewPeriod/10, time.Minute)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := k.Ensure(ctx, time.Now()); err != nil {
			k.log.Error(err, "cluster key maintenance failed; retrying")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// NeedLeaderElection makes only the leader generate and rotate keys.
func (k *Keyring) NeedLeaderElection() bool { return true }
