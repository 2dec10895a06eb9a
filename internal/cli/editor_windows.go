package cli

import "errors"

// errNoPrivateDir: exec-env's file mode needs the same private directory.
var errNoPrivateDir = errors.New("writing plaintext to a file is not available on Windows (kseal needs a tmpfs and Unix permissions to keep it off disk and private); pass values in the environment instead, or run kseal under WSL")

// privateDir refuses on Windows: see errNoPrivateDir.
func privateDir(*env) (string, error) { return "", errNoPrivateDir }

// runEditor refuses on Windows. kseal edit on Unix keeps the plaintext on
// tmpfs in a 0700 directory, runs the editor in a process group of its own
// and removes the file whatever signal ends the edit; Windows offers none
// of those guarantees in the same form (no tmpfs, no process groups that a
// console signal reaches), so rather than leave plaintext in %TEMP% kseal
// says so and names the way that works.
func runEditor(*env, string) (string, error) {
	return "", errors.New("kseal edit is not available on Windows (it needs a tmpfs and Unix process groups to keep the plaintext off disk); " +
		"use `kseal decrypt FILE`, change the values, and `kseal set`/`kseal seal` them, or run kseal under WSL")
}
