package sqlstore

import (
	"context"
	"errors"

	"github.com/firstlinehq/firstline/bot"
)

// CustomerPayments implements bot.PaymentSource: a customer's payments,
// newest first by CreatedAt, at most limit. Payments without a creation
// time come last.
func (s *Store) CustomerPayments(ctx context.Context, customerID string, limit int) ([]bot.Payment, error) {
	ps, err := queryAll(ctx, s.r, scanPayment, `SELECT `+paymentCols+` FROM payments
		WHERE customer_id = $1
		ORDER BY created_at DESC NULLS LAST, `+s.d.bytewise("reference")+` DESC
		LIMIT $2`, customerID, limit)
	if err != nil {
		return nil, s.errorf("payments of customer %s: %w", customerID, s.d.redact(err))
	}
	return ps, nil
}

// Payment implements bot.PaymentSource. References are compared ignoring
// case; should two differ only in case, the exact one wins.
func (s *Store) Payment(ctx context.Context, reference string) (bot.Payment, error) {
	p, err := scanPayment(s.r.queryRow(ctx, `SELECT `+paymentCols+` FROM payments
		WHERE `+s.d.equalFold("reference", "$1")+` ORDER BY reference = $1 DESC LIMIT 1`, reference))
	if err != nil {
		return bot.Payment{}, s.errorf("payment %s: %w", reference, notFound(s.d.redact(err)))
	}
	return p, nil
}

const paymentCols = `reference, customer_id, amount, currency, status, merchant, created_at, updated_at`

func scanPayment(r scanner) (bot.Payment, error) {
	var p bot.Payment
	err := r.Scan(&p.Reference, &p.CustomerID, &p.Amount, &p.Currency, &p.Status, &p.Merchant,
		timeCol{&p.CreatedAt}, timeCol{&p.UpdatedAt})
	return p, err
}

// PutPayment stores p, replacing any payment with the same Reference. The
// customer must exist (an error wrapping bot.ErrNotFound otherwise), and
// Status must be one bot knows.
func (s *Store) PutPayment(ctx context.Context, p bot.Payment) error {
	if p.Reference == "" {
		return s.errorf("put payment: empty reference")
	}
	if !p.Status.Valid() {
		return s.errorf("put payment %s: unknown status %q", p.Reference, p.Status)
	}
	_, err := s.w.exec(ctx, `INSERT INTO payments (`+paymentCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (reference) DO UPDATE SET
			customer_id = excluded.customer_id, amount = excluded.amount, currency = excluded.currency,
			status = excluded.status, merchant = excluded.merchant,
			created_at = excluded.created_at, updated_at = excluded.updated_at`,
		p.Reference, p.CustomerID, p.Amount, p.Currency, p.Status, p.Merchant,
		stamp(p.CreatedAt), stamp(p.UpdatedAt))
	if err != nil {
		return s.errorf("put payment %s: %w", p.Reference, s.customerRef(err, p.CustomerID))
	}
	return nil
}

// customerRef turns the foreign-key violation of a statement whose only
// reference is to customer id into bot.ErrNotFound. One statement, checked
// by the database, rather than a check and a write that could race.
func (s *Store) customerRef(err error, id string) error {
	if s.d.foreignKeyViolation(err) {
		return customerMissing(id, bot.ErrNotFound)
	}
	return s.d.redact(err)
}

// PutCustomer stores c, replacing any customer with the same ID.
func (s *Store) PutCustomer(ctx context.Context, c bot.Customer) error {
	if c.ID == "" {
		return errors.New(s.d.name() + ": put customer: empty id")
	}
	_, err := s.w.exec(ctx, `INSERT INTO customers (id, name, email) VALUES ($1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, email = excluded.email`,
		c.ID, c.Name, c.Email)
	if err != nil {
		return s.errorf("put customer %s: %w", c.ID, s.d.redact(err))
	}
	return nil
}

// CustomerCount returns how many customers are stored; demo seeding runs
// only on an empty database.
func (s *Store) CustomerCount(ctx context.Context) (int, error) {
	var n int64
	if err := s.r.queryRow(ctx, `SELECT COUNT(*) FROM customers`).Scan(&n); err != nil {
		return 0, s.errorf("count customers: %w", s.d.redact(err))
	}
	return int(n), nil
}

// Link links l.Identity to l.CustomerID, replacing any link the identity
// had. The caller checked the customer in the directory, which may be the
// company's API: the customers table need not hold it. A zero CreatedAt is
// stored as now; relinking an identity to the customer it is already
// linked to keeps the original time.
func (s *Store) Link(ctx context.Context, l bot.Link) error {
	id := l.Identity
	if !id.Platform.Valid() || id.User == "" || l.CustomerID == "" {
		return s.errorf("link %s/%s/%s: platform, user and customer are required", id.Platform, id.Workspace, id.User)
	}
	if l.CreatedAt.IsZero() {
		l.CreatedAt = s.now()
	}
	_, err := s.w.exec(ctx, linkQuery, id.Platform, id.Workspace, id.User, l.CustomerID, stamp(l.CreatedAt))
	if err != nil {
		return s.errorf("link %s/%s/%s to customer %s: %w", id.Platform, id.Workspace, id.User, l.CustomerID, s.d.redact(err))
	}
	return nil
}

// Unlink removes the link of an identity; bot.ErrNotFound if it had none.
func (s *Store) Unlink(ctx context.Context, id bot.Identity) error {
	err := s.execOne(ctx, `DELETE FROM identities WHERE platform = $1 AND workspace = $2 AND user_id = $3`,
		id.Platform, id.Workspace, id.User)
	if err != nil {
		return s.errorf("unlink %s/%s/%s: %w", id.Platform, id.Workspace, id.User, err)
	}
	return nil
}

// Links returns every link, ordered by platform, workspace and user, byte
// by byte whatever the database's collation.
func (s *Store) Links(ctx context.Context) ([]bot.Link, error) {
	ls, err := queryAll(ctx, s.r, scanLink, `SELECT platform, workspace, user_id, customer_id, created_at FROM identities
		ORDER BY `+s.d.bytewise("platform")+`, `+s.d.bytewise("workspace")+`, `+s.d.bytewise("user_id"))
	if err != nil {
		return nil, s.errorf("list links: %w", s.d.redact(err))
	}
	return ls, nil
}
