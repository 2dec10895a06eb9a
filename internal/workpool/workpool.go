// Package workpool runs indexed work on a fixed number of goroutines, for
// the load generators of the benchmarks and the chaos test.
package workpool

import (
	"sync"
	"sync/atomic"
)

// Run calls f for each index below n with c workers. A worker whose call
// fails stops; the others finish the remaining indexes. Run returns the
// first error.
func Run(n, c int, f func(i int) error) error {
	var next atomic.Int64
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	for range c {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					once.Do(func() { first = err })
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}
