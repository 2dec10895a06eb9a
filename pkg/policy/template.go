package policy

import (
	"fmt"
	"slices"
	"strings"
)

// TokenTypes are the Secret types Kubernetes' token controllers act on: the
// service account token controller fills a kubernetes.io/service-account-token
// Secret with a token for the account its annotations name, and bootstrap
// tokens authenticate nodes joining the cluster. A template may use them only
// where the service lists them in allowTokenTypes.
var TokenTypes = []string{"kubernetes.io/service-account-token", "bootstrap.kubernetes.io/token"}

// DefaultDeniedAnnotations are annotation prefixes refused on every
// template unless the service allows them: each makes some other component
// copy the Secret out of its namespace (replicators) or mint a credential
// into it (service account token annotations).
var DefaultDeniedAnnotations = []string{
	"replicator.v1.mittwald.de/",       // kubernetes-replicator: replicate-to, replicate-from
	"reflector.v1.k8s.emberstack.com/", // reflector: reflection-allowed, auto-enabled
	"kubed.appscode.com/",              // kubed / config-syncer: sync
	"kubernetes.io/service-account.",   // service-account.name and .uid: the token controller acts on them
}

// CheckTemplate says whether a Secret of type typ with annotations may be
// written for service svc (nil: no policy, or no service: the defaults
// only).
func CheckTemplate(svc *Service, typ string, annotations map[string]string) error {
	if slices.Contains(TokenTypes, typ) && (svc == nil || !slices.Contains(svc.AllowTokenTypes, typ)) {
		return fmt.Errorf("type %s is refused: the token controllers act on it (a service may allow it with allowTokenTypes)", typ)
	}
	var bad []string
	for k := range annotations {
		if !annotationAllowed(svc, k) {
			bad = append(bad, k)
		}
	}
	if len(bad) > 0 {
		slices.Sort(bad)
		return fmt.Errorf("annotations %s are refused (denied prefixes: defaults %v, plus the service's denyAnnotations)", strings.Join(bad, ", "), DefaultDeniedAnnotations)
	}
	return nil
}

// annotationAllowed applies the longest matching prefix among the service's
// denyAnnotations and allowAnnotations and the defaults; on a tie a
// service's deny beats its allow, which beats a default. No match allows.
func annotationAllowed(svc *Service, key string) bool {
	best, allowed := -1, true
	consider := func(prefixes []string, verdict bool) {
		for _, p := range prefixes {
			if strings.HasPrefix(key, p) && len(p) > best {
				best, allowed = len(p), verdict
			}
		}
	}
	// Later calls win ties only by being strictly longer, so the order is
	// the tie-break: service deny first, then allow, then the defaults.
	if svc != nil {
		consider(svc.DenyAnnotations, false)
		consider(svc.AllowAnnotations, true)
	}
	consider(DefaultDeniedAnnotations, false)
	return allowed
}
