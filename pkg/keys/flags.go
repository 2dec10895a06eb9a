package keys

import "flag"

// flagBinders holds Provider.ControllerFlags by provider.
var flagBinders = map[string]func(*flag.FlagSet){}

// BindControllerFlags adds every provider's controller flags to fs. Their
// values are read by the providers' identity sources (DefaultIdentities).
func BindControllerFlags(fs *flag.FlagSet) {
	registry.RLock()
	defer registry.RUnlock()
	for _, name := range sortedNames(flagBinders) {
		flagBinders[name](fs)
	}
}
