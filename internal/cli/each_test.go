package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"kseal.dev/kseal/pkg/manifest"
)

// secretInputs returns inputs of n files with one Secret each.
func secretInputs(t *testing.T, n int) []*input {
	t.Helper()
	var ins []*input
	for i := range n {
		name := fmt.Sprintf("f%02d.yaml", i)
		data := []byte(fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata:\n  name: s%d\n  namespace: ns\nstringData:\n  k: v\n", i))
		strm, err := manifest.Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		ins = append(ins, &input{name: name, data: data, strm: strm})
	}
	return ins
}

func TestEachPool(t *testing.T) {
	e := &env{ctx: context.Background(), stderr: &strings.Builder{}, getenv: func(string) string { return "" }}

	t.Run("never more than jobs at once", func(t *testing.T) {
		var now, most atomic.Int32
		err := each(e, "testing", 3, secretInputs(t, 20), []manifest.Kind{manifest.KindSecret}, func(*input, *manifest.Doc) error {
			n := now.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			time.Sleep(2 * time.Millisecond)
			now.Add(-1)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if m := most.Load(); m > 3 || m < 2 {
			t.Errorf("%d calls ran at once, want 2 or 3 (jobs 3)", m)
		}
	})

	t.Run("the earliest failing document is reported, whatever failed first", func(t *testing.T) {
		ins := secretInputs(t, 6)
		release := make(chan struct{})
		err := each(e, "testing", 6, ins, []manifest.Kind{manifest.KindSecret}, func(in *input, _ *manifest.Doc) error {
			switch in.name {
			case "f01.yaml":
				<-release // fails last
				return errors.New("first in order")
			case "f04.yaml":
				defer close(release)
				return errors.New("first in time")
			}
			return nil
		})
		if err == nil || !strings.HasPrefix(err.Error(), "f01.yaml: first in order") {
			t.Fatalf("got %v, want the error of f01.yaml", err)
		}
	})

	t.Run("a failure stops new work", func(t *testing.T) {
		var calls atomic.Int32
		err := each(e, "testing", 1, secretInputs(t, 20), []manifest.Kind{manifest.KindSecret}, func(*input, *manifest.Doc) error {
			calls.Add(1)
			return errors.New("refused")
		})
		if err == nil {
			t.Fatal("no error")
		}
		if c := calls.Load(); c > 2 {
			t.Errorf("%d calls after the first failure's, want at most one more", c-1)
		}
	})
}
