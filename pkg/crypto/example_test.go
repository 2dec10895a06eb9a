package crypto_test

import (
	"context"
	"crypto/rand"
	"fmt"

	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/keys"
	"kseal.dev/kseal/pkg/keys/agekey"
)

// Example seals the values of one Secret for a recipient, and opens them
// again with the matching identity, as the object they were sealed for.
// Opened as another object (here, moved to another namespace), they do
// not open.
func Example() {
	ctx := context.Background()
	id, _ := agekey.Generate(false) // post-quantum hybrid key pair
	rcpt, _ := keys.ParseRecipient(id.Recipient())
	db := crypto.Target{Namespace: "prod", Name: "db"}

	s, err := crypto.Seal(ctx, rand.Reader, crypto.ScopeStrict, db, map[string][]byte{"password": []byte("hunter2")}, []keys.Recipient{rcpt})
	if err != nil {
		fmt.Println(err)
		return
	}
	o, err := crypto.Open(ctx, s, db, []keys.Identity{id})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s, %d section(s)\n", o.Values["password"], len(o.Sections))

	moved := crypto.Target{Namespace: "dev", Name: "db"}
	_, err = crypto.Open(ctx, s, moved, []keys.Identity{id})
	fmt.Println("opened as dev/db:", err)
	// Output:
	// hunter2, 1 section(s)
	// opened as dev/db: integrity check failed: section 0: sealed for prod/db, found as dev/db — renamed by a kustomize namePrefix/namespace? (scope strict binds the namespace and the name: seal it under the name it is applied as, or re-seal it with kseal rotate --scope namespace to allow renames)
}
