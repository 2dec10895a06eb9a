package cli

import (
	"os"
	"syscall"
)

// editSignals end an edit or an exec-env child: the editor's process group
// (or the child) gets the signal, the plaintext is removed, nothing is
// written.
var editSignals = []os.Signal{syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGTERM}
