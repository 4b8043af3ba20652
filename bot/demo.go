package bot

// The demo customers and payments that `firstline chat` and `firstline
// eval` seed an empty database with.

import (
	"context"
	"fmt"
	"time"
)

// DemoCustomers returns the demo customers: C-1001 (Ada Lovelace) and C-1002
// (Grace Hopper).
func DemoCustomers() []Customer {
	return []Customer{
		{ID: "C-1001", Name: "Ada Lovelace", Email: "ada@example.com"},
		{ID: "C-1002", Name: "Grace Hopper", Email: "grace@example.com"},
	}
}

// DemoStore is what SeedDemo fills: the store's customers table, the
// directory of `chat` and `eval`.
type DemoStore interface {
	CustomerCount(ctx context.Context) (int, error)
	ImportCustomers(ctx context.Context, cs []Customer, skipConflicts bool) (ImportResult, error)
	PutPayment(ctx context.Context, p Payment) error
}

// SeedDemo fills an empty database with the demo data: the customers as one
// more import into the store's customers table, and their payments. It
// does nothing, and returns false, when the database has customers.
func SeedDemo(ctx context.Context, st DemoStore, now time.Time) (bool, error) {
	n, err := st.CustomerCount(ctx)
	if err != nil {
		return false, fmt.Errorf("seed demo data: %w", err)
	}
	if n > 0 {
		return false, nil
	}
	if _, err := st.ImportCustomers(ctx, DemoCustomers(), false); err != nil {
		return false, fmt.Errorf("seed demo customers: %w", err)
	}
	for _, p := range DemoPayments(now) {
		if err := st.PutPayment(ctx, p); err != nil {
			return false, fmt.Errorf("seed demo payment %s: %w", p.Reference, err)
		}
	}
	return true, nil
}

// DemoPayments returns the demo customers' payments, in every state, dated
// relative to now so that they read as recent.
func DemoPayments(now time.Time) []Payment {
	day := 24 * time.Hour
	pay := func(ref, customer, amount, currency string, status PaymentStatus, merchant string, age time.Duration) Payment {
		created := now.Add(-age).UTC().Truncate(time.Second)
		return Payment{Reference: ref, CustomerID: customer, Amount: amount, Currency: currency,
			Status: status, Merchant: merchant, CreatedAt: created, UpdatedAt: created.Add(time.Hour)}
	}
	return []Payment{
		pay("PAY-1001", "C-1001", "120.00", "EUR", PaymentSettled, "Acme Books", 12*day),
		pay("PAY-1002", "C-1001", "49.90", "EUR", PaymentPending, "Nordic Rail", 1*day),
		pay("PAY-1003", "C-1001", "15.00", "EUR", PaymentFailed, "Corner Coffee", 3*day),
		pay("PAY-1004", "C-1001", "89.00", "EUR", PaymentRefunded, "Sport & Outdoor", 20*day),
		pay("PAY-2001", "C-1002", "300.00", "USD", PaymentSettled, "Compiler Supplies", 5*day),
		pay("PAY-2002", "C-1002", "75.50", "USD", PaymentPending, "Navy Surplus", 2*day),
		pay("PAY-2003", "C-1002", "12.00", "USD", PaymentFailed, "Bug Spray Inc.", 4*day),
		pay("PAY-2004", "C-1002", "40.00", "USD", PaymentRefunded, "Punch Cards Ltd", 30*day),
	}
}
