package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	neturl "net/url"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	ksealv1 "kseal.dev/kseal/api/v1alpha1"
	"kseal.dev/kseal/pkg/keys"
)

// clusterFlags select the cluster and the controller's namespace.
type clusterFlags struct {
	kubeconfig string
	context    string
	namespace  string
}

func (c *clusterFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&c.kubeconfig, "kubeconfig", "", "kubeconfig file (default $KUBECONFIG or ~/.kube/config)")
	cmd.Flags().StringVar(&c.context, "context", "", "kubeconfig context")
	cmd.Flags().StringVar(&c.namespace, "controller-namespace", "kseal-system", "namespace of kseal-controller")
}

// coreClient reads the core API group's v1: the ConfigMap fetch-recipients
// reads and the Secrets keys backup lists. client-go's typed clientset
// would do the same, but importing it registers every API group of
// Kubernetes, and every kseal run, decrypt included, paid for that at
// start-up (about 14 ms of package initialization).
type coreClient struct {
	rest   rest.Interface
	params runtime.ParameterCodec
}

func (c *clusterFlags) core() (*coreClient, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if c.kubeconfig != "" {
		rules.ExplicitPath = c.kubeconfig
	}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: c.context}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig: %w", err)
	}
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	cfg.APIPath = "/api"
	cfg.GroupVersion = &corev1.SchemeGroupVersion
	cfg.NegotiatedSerializer = serializer.NewCodecFactory(scheme).WithoutConversion()
	if cfg.UserAgent == "" {
		cfg.UserAgent = rest.DefaultKubernetesUserAgent()
	}
	rc, err := rest.RESTClientFor(cfg)
	if err != nil {
		return nil, err
	}
	return &coreClient{rest: rc, params: runtime.NewParameterCodec(scheme)}, nil
}

func (c *coreClient) configMap(ctx context.Context, namespace, name string) (*corev1.ConfigMap, error) {
	cm := &corev1.ConfigMap{}
	return cm, c.rest.Get().Namespace(namespace).Resource("configmaps").Name(name).Do(ctx).Into(cm)
}

func (c *coreClient) secrets(ctx context.Context, namespace string, opts metav1.ListOptions) (*corev1.SecretList, error) {
	l := &corev1.SecretList{}
	return l, c.rest.Get().Namespace(namespace).Resource("secrets").VersionedParams(&opts, c.params).Do(ctx).Into(l)
}

// fetchRecipientsOptions are the flags of fetch-recipients.
type fetchRecipientsOptions struct {
	cluster clusterFlags
	output  string
	url     string
	all     bool
	expect  []string
}

func newFetchRecipientsCmd(e *env) *cobra.Command {
	o := &fetchRecipientsOptions{}
	cmd := &cobra.Command{
		Use:   "fetch-recipients",
		Short: "Fetch the cluster's public recipients, to seal offline",
		Long: `fetch-recipients reads the recipients kseal-controller publishes in the
kseal-recipients ConfigMap (readable by every authenticated user), or from
its /v1/recipients endpoint with --url. Save them and seal without cluster
access:

  kseal fetch-recipients -o cluster.pub
  kseal seal --recipients-file cluster.pub -f secret.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runFetchRecipients(e, o)
		},
	}
	o.cluster.register(cmd)
	cmd.Flags().StringVarP(&o.output, "output", "o", "", "write to this file instead of standard output")
	cmd.Flags().StringVar(&o.url, "url", "", "fetch from the controller's recipients endpoint (https://HOST:8082, or its full .../v1/recipients) instead of the API server")
	cmd.Flags().BoolVar(&o.all, "all", false, "every active key, not just the one to seal to")
	cmd.Flags().StringArrayVar(&o.expect, "expect-key-id", nil, "refuse unless the fetched recipients have exactly these key IDs (repeatable; pins what you verified out of band)")
	return cmd
}

// runFetchRecipients fetches the recipients, checks them, and writes them
// to standard output or the -o file.
func runFetchRecipients(e *env, o *fetchRecipientsOptions) error {
	text, err := o.fetch(e)
	if err != nil {
		return err
	}
	// Check what we got before anyone seals to it.
	rs, err := keys.ParseRecipients(strings.NewReader(text), "fetched recipients")
	if err != nil {
		return err
	}
	if err := checkPinned(rs, o.expect); err != nil {
		return err
	}
	if o.output == "" {
		_, err := io.WriteString(e.stdout, text)
		return err
	}
	return writeAtomic(o.output, []byte(text), 0o644)
}

// fetch reads the recipients text from --url, or else from the
// controller's ConfigMap.
func (o *fetchRecipientsOptions) fetch(e *env) (string, error) {
	if o.url != "" {
		if err := checkRecipientsURL(o.url); err != nil {
			return "", err
		}
		return fetchRecipientsURL(e, o.url, o.all)
	}
	cf := &o.cluster
	cs, err := cf.core()
	if err != nil {
		return "", err
	}
	cm, err := cs.configMap(e.ctx, cf.namespace, ksealv1.RecipientsConfigMap)
	if err != nil {
		return "", hintError{fmt.Errorf("reading ConfigMap %s/%s: %w", cf.namespace, ksealv1.RecipientsConfigMap, err), "is kseal-controller installed and running? (kubectl -n " + cf.namespace + " get deploy kseal-controller)"}
	}
	key := ksealv1.RecipientsKey
	if o.all {
		key = ksealv1.AllRecipientsKey
	}
	return cm.Data[key], nil
}

// checkRecipientsURL refuses plain http except on loopback: whoever sits on
// the path could otherwise hand out their own recipients, and everything
// sealed to them would be theirs to read.
func checkRecipientsURL(raw string) error {
	u, err := neturl.Parse(raw)
	if err != nil {
		return usagef("--url: %v", err)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if onLoopback(u) {
			return nil
		}
		return hintError{usagef("--url %s: plain http is refused except on loopback (a man in the middle could substitute their own recipients)", u.Redacted()), "use https, or kubectl port-forward and http://127.0.0.1:PORT, or read the ConfigMap (no --url)"}
	}
	return usagef("--url %s: want an https URL (or http on loopback)", u.Redacted())
}

// onLoopback reports whether u names this machine by a loopback name or
// address.
func onLoopback(u *neturl.URL) bool {
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkRecipientsRedirect follows a redirect of the recipients endpoint
// only to where --url could have pointed itself (https, or plain http on
// loopback): checking the first URL alone would let an https endpoint, or
// whoever answers on a loopback port, send kseal to plain http on the
// network, where anyone on the path could hand out their own recipients.
func checkRecipientsRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return fmt.Errorf("stopped after %d redirects", len(via))
	}
	u := req.URL
	if u.Scheme == "https" || (u.Scheme == "http" && onLoopback(u)) {
		return nil
	}
	return fmt.Errorf("%s redirected to %s: refused: only https, or plain http on loopback (a man in the middle could substitute their own recipients)", via[len(via)-1].URL.Redacted(), u.Redacted())
}

// checkPinned refuses recipients whose key IDs are not exactly want.
func checkPinned(rs []keys.Recipient, want []string) error {
	if len(want) == 0 {
		return nil
	}
	var got []string
	for _, r := range rs {
		got = append(got, r.KeyID())
	}
	slices.Sort(got)
	w := slices.Clone(want)
	slices.Sort(w)
	if !slices.Equal(slices.Compact(got), slices.Compact(w)) {
		return fmt.Errorf("fetched recipients have key IDs %s, not the expected %s: refusing them (nothing written)", strings.Join(got, ", "), strings.Join(w, ", "))
	}
	return nil
}
