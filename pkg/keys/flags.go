package keys

import (
	"flag"
	"sync"
)

var flagBinders struct {
	sync.Mutex
	m map[string]func(*flag.FlagSet)
}

// RegisterControllerFlags lets a provider add its kseal-controller flags
// (how it authenticates in the cluster) under name.
func RegisterControllerFlags(name string, bind func(*flag.FlagSet)) {
	flagBinders.Lock()
	defer flagBinders.Unlock()
	if flagBinders.m == nil {
		flagBinders.m = map[string]func(*flag.FlagSet){}
	}
	flagBinders.m[name] = bind
}

// BindControllerFlags adds every provider's controller flags to fs. Their
// values are read by the providers' identity sources (DefaultIdentities).
func BindControllerFlags(fs *flag.FlagSet) {
	flagBinders.Lock()
	defer flagBinders.Unlock()
	for _, bind := range flagBinders.m {
		bind(fs)
	}
}
