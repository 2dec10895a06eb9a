package cli

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"unicode"

	"kseal.dev/kseal/pkg/crypto"
)

// valueSet gathers the values of create and set. A key given twice is an
// error (as in kubectl), whichever sources gave it.
type valueSet map[string][]byte

func (v valueSet) add(key string, val []byte, from string) error {
	if err := crypto.CheckNewKey(key); err != nil {
		return fmt.Errorf("%s: %w", from, err)
	}
	if _, ok := v[key]; ok {
		return fmt.Errorf("%s: key %q given twice", from, key)
	}
	v[key] = val
	return nil
}

// addFromFile reads one --from-file: KEY=PATH, PATH (the key is the file
// name) or, when dirs is true, a directory, giving one key per regular
// file in it, as kubectl create secret generic does: entries that are not
// regular files (subdirectories, links, pipes) are skipped, and a file
// whose name is not a valid key is an error. PATH "-" is standard input;
// named pipes and process substitution are read up to the cap.
func (v valueSet) addFromFile(e *env, i int, spec string, dirs bool) error {
	who := fmt.Sprintf("--from-file number %d", i+1)
	k, p, ok := strings.Cut(spec, "=")
	if !ok {
		p, k = spec, filepath.Base(spec)
	}
	if p != "-" && dirs {
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			if ok {
				return usagef("%s: a directory gives one key per file: drop KEY=", who)
			}
			return v.addDir(e, p)
		}
	}
	if !ok && p == "-" {
		return usagef("%s: standard input needs a key: KEY=-", who)
	}
	b, err := readValue(e, who, p)
	if err != nil {
		return fromFileError(i, p, err)
	}
	return v.add(k, b, who)
}

func (v valueSet) addDir(e *env, dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, d := range entries {
		if !d.Type().IsRegular() {
			continue
		}
		p := filepath.Join(dir, d.Name())
		b, err := readValue(e, p, p)
		if err != nil {
			return err
		}
		if err := v.add(d.Name(), b, p); err != nil {
			return err
		}
	}
	return nil
}

// envVarName is kubectl's rule for keys of an env file.
var envVarName = regexp.MustCompile(`^[-._a-zA-Z][-._a-zA-Z0-9]*$`)

// addEnvFile reads KEY=VALUE lines as kubectl create secret
// --from-env-file does: a UTF-8 byte order mark is dropped, leading white
// space is trimmed, blank lines and lines starting with # are skipped, the
// value is the rest of the line after the first = (quotes are kept, as
// kubectl keeps them). A line without = takes the value of the environment
// variable KEY only when environ is true (kubectl always does), never for a
// credential variable (see credentialEnv), and an unset variable is an
// error (kubectl would store an empty value). Values are never quoted in
// errors.
func (v valueSet) addEnvFile(e *env, file string, environ bool) error {
	var b []byte
	var err error
	if file == "-" {
		b, err = readStdin(e, "--from-env-file", MaxSecretSize)
	} else {
		b, _, err = readSource(file, MaxSecretSize)
	}
	if err != nil {
		return err
	}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), MaxSecretSize+1)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimLeftFunc(sc.Text(), unicode.IsSpace)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		at := fmt.Sprintf("%s:%d", file, n)
		k, val, ok := strings.Cut(line, "=")
		if !envVarName.MatchString(k) {
			// Not quoted: a line without = may be a value.
			return fmt.Errorf("%s: not KEY=VALUE with a valid key (letters, digits, '-', '_' or '.', not starting with a digit)", at)
		}
		if !ok {
			if !environ {
				// Not quoted: a bare line may be a value pasted by mistake.
				return fmt.Errorf("%s: a line without = would copy an environment variable of this process; pass --from-env-file-allow-environ to allow it (the line is not shown: it may be a value)", at)
			}
			if credentialEnv(k) {
				return fmt.Errorf("%s: environment variable %q holds credentials and is never copied from the environment", at, k)
			}
			env, set := os.LookupEnv(k)
			if !set {
				// Not quoted: a bare line may be a value pasted by mistake.
				return fmt.Errorf("%s: a line without = takes the environment variable it names, and none is set (the line is not shown: it may be a value)", at)
			}
			val = env
		}
		if err := v.add(k, []byte(val), at); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return nil
}

// fromFileError reports a --from-file that could not be read without its
// path: given KEY=VALUE by mistake (for --from-literal), the path is the
// value.
func fromFileError(i int, path string, err error) error {
	var u usageError
	if errors.As(err, &u) {
		return err
	}
	msg := err.Error()
	var pe *fs.PathError
	if errors.As(err, &pe) {
		msg = pe.Err.Error()
	}
	if path != "" {
		msg = strings.ReplaceAll(msg, path, "(the path)")
	}
	return fmt.Errorf("--from-file number %d: %s (the path is not shown: it may be a value given by mistake)", i+1, msg)
}
