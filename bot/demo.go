// Package demo holds the demo customers and payments that `firstline chat`
// and `firstline eval` seed an empty database with.
package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/firstlinehq/firstline/bot"
)

// Customers returns the demo customers: C-1001 (Ada Lovelace) and C-1002
// (Grace Hopper).
func Customers() []bot.Customer {
	return []bot.Customer{
		{ID: "C-1001", Name: "Ada Lovelace", Email: "ada@example.com"},
		{ID: "C-1002", Name: "Grace Hopper", Email: "grace@example.com"},
	}
}

// Store is what seeding needs of a store.
type Store interface {
	CustomerCount(ctx context.Context) (int, error)
	PutCustomer(ctx context.Context, c bot.Customer) error
	PutPayment(ctx context.Context, p bot.Payment) error
}

// Seed fills an empty database with the demo customers and payments in
// every state, dated relative to now so that they read as recent. It does
// nothing, and returns false, when the database has customers.
func Seed(ctx context.Context, st Store, now time.Time) (bool, error) {
	n, err := st.CustomerCount(ctx)
	if err != nil {
		return false, fmt.Errorf("seed demo data: %w", err)
	}
	if n > 0 {
		return false, nil
	}
	for _, c := range Customers() {
		if err := st.PutCustomer(ctx, c); err != nil {
			return false, fmt.Errorf("seed demo customer %s: %w", c.ID, err)
		}
	}
	day := 24 * time.Hour
	pay := func(ref, customer, amount, currency string, status bot.PaymentStatus, merchant string, age time.Duration) bot.Payment {
		created := now.Add(-age).UTC().Truncate(time.Second)
		return bot.Payment{Reference: ref, CustomerID: customer, Amount: amount, Currency: currency,
			Status: status, Merchant: merchant, CreatedAt: created, UpdatedAt: created.Add(time.Hour)}
	}
	payments := []bot.Payment{
		pay("PAY-1001", "C-1001", "120.00", "EUR", bot.PaymentSettled, "Acme Books", 12*day),
		pay("PAY-1002", "C-1001", "49.90", "EUR", bot.PaymentPending, "Nordic Rail", 1*day),
		pay("PAY-1003", "C-1001", "15.00", "EUR", bot.PaymentFailed, "Corner Coffee", 3*day),
		pay("PAY-1004", "C-1001", "89.00", "EUR", bot.PaymentRefunded, "Sport & Outdoor", 20*day),
		pay("PAY-2001", "C-1002", "300.00", "USD", bot.PaymentSettled, "Compiler Supplies", 5*day),
		pay("PAY-2002", "C-1002", "75.50", "USD", bot.PaymentPending, "Navy Surplus", 2*day),
		pay("PAY-2003", "C-1002", "12.00", "USD", bot.PaymentFailed, "Bug Spray Inc.", 4*day),
		pay("PAY-2004", "C-1002", "40.00", "USD", bot.PaymentRefunded, "Punch Cards Ltd", 30*day),
	}
	for _, p := range payments {
		if err := st.PutPayment(ctx, p); err != nil {
			return false, fmt.Errorf("seed demo payment %s: %w", p.Reference, err)
		}
	}
	return true, nil
}
