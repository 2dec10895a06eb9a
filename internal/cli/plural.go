package cli

import "fmt"

// count renders n with the noun in the right number: "1 finding",
// "2 findings", "1 sealed object".
func count(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
