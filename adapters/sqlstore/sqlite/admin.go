package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/firstlinehq/firstline/bot"
)

// CustomerPayments implements bot.PaymentSource: a customer's payments,
// newest first by CreatedAt, at most limit. Payments without a creation
// time come last.
func (s *Store) CustomerPayments(ctx context.Context, customerID string, limit int) ([]bot.Payment, error) {
	ps, err := queryAll(ctx, s.read, scanPayment, `SELECT `+paymentCols+` FROM payments
		WHERE customer_id = ?
		ORDER BY created_at DESC NULLS LAST, reference DESC
		LIMIT ?`, customerID, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: payments of customer %s: %w", customerID, err)
	}
	return ps, nil
}

// Payment implements bot.PaymentSource.
func (s *Store) Payment(ctx context.Context, reference string) (bot.Payment, error) {
	p, err := scanPayment(s.read.QueryRowContext(ctx, `SELECT `+paymentCols+` FROM payments WHERE reference = ? COLLATE NOCASE`, reference))
	if err != nil {
		return bot.Payment{}, fmt.Errorf("sqlite: payment %s: %w", reference, notFound(err))
	}
	return p, nil
}

const paymentCols = `reference, customer_id, amount, currency, status, merchant, created_at, updated_at`

func scanPayment(r scanner) (bot.Payment, error) {
	var p bot.Payment
	err := r.Scan(&p.Reference, &p.CustomerID, &p.Amount, &p.Currency, &p.Status, &p.Merchant,
		timeDest{&p.CreatedAt}, timeDest{&p.UpdatedAt})
	return p, err
}

// PutPayment stores p, replacing any payment with the same Reference. The
// customer must exist (an error wrapping bot.ErrNotFound otherwise), and
// Status must be one bot knows.
func (s *Store) PutPayment(ctx context.Context, p bot.Payment) error {
	if p.Reference == "" {
		return errors.New("sqlite: put payment: empty reference")
	}
	if !p.Status.Valid() {
		return fmt.Errorf("sqlite: put payment %s: unknown status %q", p.Reference, p.Status)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := requireCustomer(ctx, tx, p.CustomerID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO payments (`+paymentCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (reference) DO UPDATE SET
				customer_id = excluded.customer_id, amount = excluded.amount, currency = excluded.currency,
				status = excluded.status, merchant = excluded.merchant,
				created_at = excluded.created_at, updated_at = excluded.updated_at`,
			p.Reference, p.CustomerID, p.Amount, p.Currency, p.Status, p.Merchant,
			nanos(p.CreatedAt), nanos(p.UpdatedAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: put payment %s: %w", p.Reference, err)
	}
	return nil
}

// PutCustomer stores c, replacing any customer with the same ID.
func (s *Store) PutCustomer(ctx context.Context, c bot.Customer) error {
	if c.ID == "" {
		return errors.New("sqlite: put customer: empty id")
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO customers (id, name, email) VALUES (?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, email = excluded.email`,
		c.ID, c.Name, c.Email)
	if err != nil {
		return fmt.Errorf("sqlite: put customer %s: %w", c.ID, err)
	}
	return nil
}

// CustomerCount returns how many customers are stored; demo seeding runs
// only on an empty database.
func (s *Store) CustomerCount(ctx context.Context) (int, error) {
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM customers`).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: count customers: %w", err)
	}
	return n, nil
}

// Link links l.Identity to l.CustomerID, replacing any link the identity
// had. The customer must exist (an error wrapping bot.ErrNotFound
// otherwise). A zero CreatedAt is stored as now; relinking an identity to
// the customer it is already linked to keeps the original time.
func (s *Store) Link(ctx context.Context, l bot.Link) error {
	id := l.Identity
	if !id.Platform.Valid() || id.User == "" {
		return fmt.Errorf("sqlite: link %s/%s/%s: platform and user are required", id.Platform, id.Workspace, id.User)
	}
	if l.CreatedAt.IsZero() {
		l.CreatedAt = s.now()
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := requireCustomer(ctx, tx, l.CustomerID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO identities (platform, workspace, user_id, customer_id, created_at)
			VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (platform, workspace, user_id) DO UPDATE SET
				customer_id = excluded.customer_id, created_at = excluded.created_at
			WHERE customer_id <> excluded.customer_id`,
			id.Platform, id.Workspace, id.User, l.CustomerID, nanos(l.CreatedAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: link %s/%s/%s to customer %s: %w", id.Platform, id.Workspace, id.User, l.CustomerID, err)
	}
	return nil
}

// Unlink removes the link of an identity; bot.ErrNotFound if it had none.
func (s *Store) Unlink(ctx context.Context, id bot.Identity) error {
	ok, err := execOne(ctx, s.db, `DELETE FROM identities WHERE platform = ? AND workspace = ? AND user_id = ?`,
		id.Platform, id.Workspace, id.User)
	if err == nil && !ok {
		err = bot.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("sqlite: unlink %s/%s/%s: %w", id.Platform, id.Workspace, id.User, err)
	}
	return nil
}

// Links returns every link, ordered by platform, workspace and user.
func (s *Store) Links(ctx context.Context) ([]bot.Link, error) {
	ls, err := queryAll(ctx, s.read, func(r scanner) (bot.Link, error) {
		var l bot.Link
		err := r.Scan(&l.Identity.Platform, &l.Identity.Workspace, &l.Identity.User, &l.CustomerID, timeDest{&l.CreatedAt})
		return l, err
	}, `SELECT platform, workspace, user_id, customer_id, created_at FROM identities
		ORDER BY platform, workspace, user_id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list links: %w", err)
	}
	return ls, nil
}

// write runs fn in a short transaction of its own, for admin writes that
// check before they write.
func (s *Store) write(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// requireCustomer returns an error wrapping bot.ErrNotFound unless customer
// id exists. Checked explicitly because SQLite's foreign-key error does not
// say which reference failed.
func requireCustomer(ctx context.Context, q querier, id string) error {
	if _, err := customer(ctx, q, id); err != nil {
		return fmt.Errorf("customer %s: %w", id, err)
	}
	return nil
}
