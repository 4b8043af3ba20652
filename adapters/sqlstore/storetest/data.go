package storetest

import (
	"testing"
	"time"

	"github.com/firstlinehq/firstline/bot"
)

func testPayments(t *testing.T, s Store) {
	ctx := t.Context()
	mustCustomer(t, s, "C-1001")
	mustCustomer(t, s, "C-2002")

	payment := func(ref, customer string, created time.Duration) bot.Payment {
		return bot.Payment{
			Reference:  ref,
			CustomerID: customer,
			Amount:     "120.00",
			Currency:   "EUR",
			Status:     bot.PaymentSettled,
			Merchant:   "Acme Books",
			CreatedAt:  at(created),
			UpdatedAt:  at(created + time.Hour),
		}
	}
	// Stored out of order: CustomerPayments sorts by CreatedAt.
	p2 := payment("PAY-1002", "C-1001", 48*time.Hour)
	p1 := payment("PAY-1001", "C-1001", 24*time.Hour)
	p3 := payment("PAY-1003", "C-1001", 72*time.Hour)
	other := payment("PAY-2001", "C-2002", 96*time.Hour)
	for _, p := range []bot.Payment{p2, p1, p3, other} {
		if err := s.PutPayment(ctx, p); err != nil {
			t.Fatalf("PutPayment(%s): %v", p.Reference, err)
		}
	}

	tests := []struct {
		name     string
		customer string
		limit    int
		want     []bot.Payment
	}{
		{"newest first", "C-1001", 10, []bot.Payment{p3, p2, p1}},
		{"limited", "C-1001", 2, []bot.Payment{p3, p2}},
		{"other customer", "C-2002", 10, []bot.Payment{other}},
		{"unknown customer", "C-9999", 10, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.CustomerPayments(ctx, tt.customer, tt.limit)
			if err != nil {
				t.Fatalf("CustomerPayments: %v", err)
			}
			if len(got) == 0 && len(tt.want) == 0 {
				return
			}
			wantDiff(t, "CustomerPayments", tt.want, got)
		})
	}

	got, err := s.Payment(ctx, p1.Reference)
	if err != nil {
		t.Fatalf("Payment: %v", err)
	}
	wantDiff(t, "Payment", p1, got)
	_, err = s.Payment(ctx, "PAY-9999")
	wantNotFound(t, "Payment(unknown)", err)

	// PutPayment replaces by reference: a refund updates the record.
	p1.Status, p1.UpdatedAt = bot.PaymentRefunded, at(100*time.Hour)
	if err := s.PutPayment(ctx, p1); err != nil {
		t.Fatalf("PutPayment(update): %v", err)
	}
	got, err = s.Payment(ctx, p1.Reference)
	if err != nil {
		t.Fatalf("Payment: %v", err)
	}
	wantDiff(t, "Payment after update", p1, got)

	// Payments belong to known customers.
	wantNotFound(t, "PutPayment(unknown customer)", s.PutPayment(ctx, payment("PAY-3001", "C-9999", 0)))
}

func testCustomers(t *testing.T, s Store) {
	ctx := t.Context()
	count := func() int {
		t.Helper()
		n, err := s.CustomerCount(ctx)
		if err != nil {
			t.Fatalf("CustomerCount: %v", err)
		}
		return n
	}
	if n := count(); n != 0 {
		t.Fatalf("CustomerCount of an empty store = %d", n)
	}
	mustCustomer(t, s, "C-1001")
	mustCustomer(t, s, "C-2002")
	if n := count(); n != 2 {
		t.Errorf("CustomerCount = %d, want 2", n)
	}

	// PutCustomer replaces by ID.
	updated := bot.Customer{ID: "C-1001", Name: "Ada Lovelace", Email: "ada@example.com"}
	if err := s.PutCustomer(ctx, updated); err != nil {
		t.Fatalf("PutCustomer: %v", err)
	}
	if n := count(); n != 2 {
		t.Errorf("CustomerCount after an update = %d, want 2", n)
	}
	got, err := s.Customer(ctx, "C-1001")
	if err != nil {
		t.Fatalf("Customer: %v", err)
	}
	wantDiff(t, "Customer", updated, got)

	_, err = s.Customer(ctx, "C-9999")
	wantNotFound(t, "Customer(unknown)", err)
}

func testIdentities(t *testing.T, s Store) {
	ctx := t.Context()
	mustCustomer(t, s, "C-1001")
	mustCustomer(t, s, "C-2002")

	slackUser := bot.Identity{Platform: bot.Slack, Workspace: "T1", User: "U1"}
	discordUser := bot.Identity{Platform: bot.Discord, User: "111111111111111111"} // no guild: a DM user
	slackOther := bot.Identity{Platform: bot.Slack, Workspace: "T0", User: "U9"}

	customerFor := func(id bot.Identity) (string, error) {
		var c string
		err := txErr(t, s, func(tx bot.Tx) error {
			var err error
			c, err = tx.CustomerFor(ctx, id)
			return err
		})
		return c, err
	}

	_, err := customerFor(slackUser)
	wantNotFound(t, "CustomerFor(unlinked)", err)

	// A link names a customer of the directory, which may be the company's
	// API: the customers table need not have it.
	if err := s.Link(ctx, bot.Link{Identity: slackUser, CustomerID: "C-API-7", CreatedAt: at(0)}); err != nil {
		t.Fatalf("Link(a customer the table does not hold): %v", err)
	}
	if c, err := customerFor(slackUser); err != nil || c != "C-API-7" {
		t.Errorf("CustomerFor after a link to a directory customer = %q, %v", c, err)
	}

	links := []bot.Link{
		{Identity: slackUser, CustomerID: "C-1001", CreatedAt: at(time.Minute)},
		{Identity: discordUser, CustomerID: "C-2002", CreatedAt: at(2 * time.Minute)},
		{Identity: slackOther, CustomerID: "C-2002", CreatedAt: at(3 * time.Minute)},
	}
	for _, l := range links {
		if err := s.Link(ctx, l); err != nil {
			t.Fatalf("Link(%+v): %v", l.Identity, err)
		}
	}
	for _, l := range links {
		got, err := customerFor(l.Identity)
		if err != nil || got != l.CustomerID {
			t.Errorf("CustomerFor(%+v) = %q, %v; want %q", l.Identity, got, err, l.CustomerID)
		}
	}
	// The same user id in another workspace is another person.
	_, err = customerFor(bot.Identity{Platform: bot.Slack, Workspace: "T2", User: "U1"})
	wantNotFound(t, "CustomerFor(other workspace)", err)

	gotLinks, err := s.Links(ctx)
	if err != nil {
		t.Fatalf("Links: %v", err)
	}
	wantDiff(t, "Links", []bot.Link{links[1], links[2], links[0]}, gotLinks)

	// Linking again moves the identity to the new customer.
	relink := bot.Link{Identity: slackUser, CustomerID: "C-2002", CreatedAt: at(time.Hour)}
	if err := s.Link(ctx, relink); err != nil {
		t.Fatalf("Link(relink): %v", err)
	}
	if got, err := customerFor(slackUser); err != nil || got != "C-2002" {
		t.Errorf("CustomerFor after relink = %q, %v; want C-2002", got, err)
	}

	if err := s.Unlink(ctx, slackUser); err != nil {
		t.Fatalf("Unlink: %v", err)
	}
	_, err = customerFor(slackUser)
	wantNotFound(t, "CustomerFor after Unlink", err)
	wantNotFound(t, "Unlink twice", s.Unlink(ctx, slackUser))

	gotLinks, err = s.Links(ctx)
	if err != nil {
		t.Fatalf("Links: %v", err)
	}
	wantDiff(t, "Links after Unlink", []bot.Link{links[1], links[2]}, gotLinks)
}

// References are matched case-insensitively: customers type "pay-1003".
func testPaymentReferenceCase(t *testing.T, s Store) {
	mustCustomer(t, s, "C-1")
	p := bot.Payment{Reference: "PAY-1003", CustomerID: "C-1", Amount: "1.00", Currency: "EUR", Status: bot.PaymentFailed, Merchant: "M", CreatedAt: at(0), UpdatedAt: at(0)}
	if err := s.PutPayment(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	got, err := s.Payment(t.Context(), "pay-1003")
	if err != nil || got.Reference != "PAY-1003" {
		t.Errorf("Payment(pay-1003) = %+v, %v; want PAY-1003", got, err)
	}
}
