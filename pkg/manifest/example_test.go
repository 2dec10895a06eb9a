package manifest_test

import (
	"fmt"

	"kseal.dev/kseal/pkg/manifest"
)

// ExampleParse reads a stream of two documents: a Secret kseal parses, and
// a ConfigMap it passes through as text. Plain returns the Secret's values,
// data and stringData merged as the API server merges them.
func ExampleParse() {
	s, err := manifest.Parse([]byte(`apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: prod
stringData:
  password: hunter2
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  level: debug
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, d := range s.Docs {
		fmt.Printf("doc %d, line %d: %s %q\n", d.Index, d.Line, d.Kind, d.Object())
	}
	vals, _ := s.Docs[0].Plain()
	fmt.Printf("password: %s\n", vals["password"])
	// Output:
	// doc 1, line 1: Secret "prod/db"
	// doc 2, line 9: document ""
	// password: hunter2
}
