package controller

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
)

// addEndpoints adds what the controller serves besides metrics (whose
// address, like the probes' and pprof's, is a manager option): liveness,
// readiness once a cluster key is loaded, and the recipients server.
func addEndpoints(mgr ctrl.Manager, kr *Keyring, o Options) error {
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("keys", func(req *http.Request) error {
		if !kr.Ready() {
			if err := kr.Load(req.Context()); err != nil || !kr.Ready() {
				return errors.New("no cluster key loaded yet")
			}
		}
		return nil
	}); err != nil {
		return err
	}
	if o.RecipientsAddr != "" && o.RecipientsAddr != "0" {
		if err := mgr.Add(&recipientsServer{addr: o.RecipientsAddr, kr: kr}); err != nil {
			return err
		}
	}
	return nil
}

// recipientsServer serves the cluster recipients over HTTP so that anyone
// who can reach the controller (directly or through the API server's
// service proxy) can seal offline.
type recipientsServer struct {
	addr string
	kr   *Keyring
}

func (s *recipientsServer) NeedLeaderElection() bool { return false }

func (s *recipientsServer) Start(ctx context.Context) error {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/recipients", func(w http.ResponseWriter, r *http.Request) {
		if !s.kr.Ready() {
			_ = s.kr.Load(r.Context())
		}
		cur, all := s.kr.Recipients()
		if cur == "" {
			http.Error(w, "no cluster key yet", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if r.URL.Query().Get("all") != "" {
			fmt.Fprintln(w, strings.Join(all, "\n"))
			return
		}
		fmt.Fprintln(w, cur)
	})
	srv := &http.Server{Addr: s.addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return err
	}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
