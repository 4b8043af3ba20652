package mask_test

import (
	"fmt"

	"github.com/firstlinehq/firstline/bot/mask"
)

func ExampleText() {
	masked, n := mask.Text("Card 4111 1111 1111 1111, cvv 123. Order PAY-1002, call +46 70 123 45 67.")
	fmt.Println(masked)
	fmt.Println(n, "masked")

	masked, n = mask.Text("My IBAN is DE89 3704 0044 0532 0130 00 and my password is hunter2")
	fmt.Println(masked)
	fmt.Println(n, "masked")
	// Output:
	// Card [card ••••1111], cvv [redacted]. Order PAY-1002, call +46 70 123 45 67.
	// 2 masked
	// My IBAN is [iban ••••3000] and my password is [redacted]
	// 2 masked
}

func ExampleEmail() {
	fmt.Println(mask.Email("reply sent to anna.svensson@example.com (ticket 42)"))
	// Output:
	// reply sent to [email] (ticket 42)
}
