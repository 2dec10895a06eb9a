package workpool

import (
	"errors"
	"sync/atomic"
	"testing"
)

func TestRunCallsEachIndexOnce(t *testing.T) {
	seen := make([]atomic.Int32, 1000)
	if err := Run(len(seen), 7, func(i int) error { seen[i].Add(1); return nil }); err != nil {
		t.Fatal(err)
	}
	for i := range seen {
		if n := seen[i].Load(); n != 1 {
			t.Fatalf("index %d ran %d times", i, n)
		}
	}
}

func TestRunReturnsTheError(t *testing.T) {
	boom := errors.New("boom")
	if err := Run(100, 4, func(i int) error {
		if i == 42 {
			return boom
		}
		return nil
	}); !errors.Is(err, boom) {
		t.Fatalf("Run returned %v, want the failing call's error", err)
	}
}
