package cli

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
)

// kubectlPluginName is the file name under which kubectl runs kseal as a
// plugin: `kubectl kseal …` executes the first kubectl-kseal on PATH.
const kubectlPluginName = "kubectl-kseal"

// asKubectlPlugin makes usage and help say `kubectl kseal` when the binary
// was started under the plugin's name (a copy or a link named
// kubectl-kseal), which is how kubectl starts it.
func asKubectlPlugin(root *cobra.Command, argv0 string) {
	name := strings.TrimSuffix(filepath.Base(argv0), ".exe")
	if name != kubectlPluginName {
		return
	}
	if root.Annotations == nil {
		root.Annotations = map[string]string{}
	}
	root.Annotations[cobra.CommandDisplayNameAnnotation] = "kubectl kseal"
}

// programName is the name the process was started under.
func programName() string {
	if len(os.Args) == 0 {
		return ""
	}
	return os.Args[0]
}
