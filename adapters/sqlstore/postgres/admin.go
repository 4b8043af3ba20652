package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/firstlinehq/firstline/bot"
)

// CustomerPayments implements bot.PaymentSource: a customer's payments,
// newest first by CreatedAt, at most limit. Payments without a creation
// time come last.
func (s *Store) CustomerPayments(ctx context.Context, customerID string, limit int) ([]bot.Payment, error) {
	var ps []bot.Payment
	err := s.withConn(ctx, func(conn *pgx.Conn) error {
		var err error
		ps, err = queryAll(ctx, conn, scanPayment, `SELECT `+paymentCols+` FROM payments
			WHERE customer_id = $1
			ORDER BY created_at DESC NULLS LAST, reference COLLATE "C" DESC
			LIMIT $2`, customerID, limit)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: payments of customer %s: %w", customerID, err)
	}
	return ps, nil
}

// Payment implements bot.PaymentSource.
func (s *Store) Payment(ctx context.Context, reference string) (bot.Payment, error) {
	var p bot.Payment
	err := s.withConn(ctx, func(conn *pgx.Conn) error {
		var err error
		p, err = scanPayment(conn.QueryRow(ctx, `SELECT `+paymentCols+` FROM payments WHERE lower(reference) = lower($1) ORDER BY reference = $1 DESC LIMIT 1`, reference))
		return notFound(err)
	})
	if err != nil {
		return bot.Payment{}, fmt.Errorf("postgres: payment %s: %w", reference, err)
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
		return errors.New("postgres: put payment: empty reference")
	}
	if !p.Status.Valid() {
		return fmt.Errorf("postgres: put payment %s: unknown status %q", p.Reference, p.Status)
	}
	err := s.withConn(ctx, func(conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, `INSERT INTO payments (`+paymentCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (reference) DO UPDATE SET
				customer_id = excluded.customer_id, amount = excluded.amount, currency = excluded.currency,
				status = excluded.status, merchant = excluded.merchant,
				created_at = excluded.created_at, updated_at = excluded.updated_at`,
			p.Reference, p.CustomerID, p.Amount, p.Currency, p.Status, p.Merchant,
			ts(p.CreatedAt), ts(p.UpdatedAt))
		return customerRef(err, p.CustomerID)
	})
	if err != nil {
		return fmt.Errorf("postgres: put payment %s: %w", p.Reference, err)
	}
	return nil
}

// customerRef turns the foreign-key violation of a statement whose only
// reference is to customer id into bot.ErrNotFound. One statement, checked
// by the database, rather than a check and a write that could race.
func customerRef(err error, id string) error {
	if isForeignKeyViolation(err) {
		return fmt.Errorf("customer %s: %w", id, bot.ErrNotFound)
	}
	return err
}

// PutCustomer stores c, replacing any customer with the same ID.
func (s *Store) PutCustomer(ctx context.Context, c bot.Customer) error {
	if c.ID == "" {
		return errors.New("postgres: put customer: empty id")
	}
	err := s.withConn(ctx, func(conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, `INSERT INTO customers (id, name, email) VALUES ($1, $2, $3)
			ON CONFLICT (id) DO UPDATE SET name = excluded.name, email = excluded.email`,
			c.ID, c.Name, c.Email)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: put customer %s: %w", c.ID, err)
	}
	return nil
}

// CustomerCount returns how many customers are stored; demo seeding runs
// only on an empty database.
func (s *Store) CustomerCount(ctx context.Context) (int, error) {
	var n int
	err := s.withConn(ctx, func(conn *pgx.Conn) error {
		return conn.QueryRow(ctx, `SELECT COUNT(*) FROM customers`).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: count customers: %w", err)
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
		return fmt.Errorf("postgres: link %s/%s/%s: platform and user are required", id.Platform, id.Workspace, id.User)
	}
	if l.CreatedAt.IsZero() {
		l.CreatedAt = s.now()
	}
	err := s.withConn(ctx, func(conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, linkQuery, id.Platform, id.Workspace, id.User, l.CustomerID, ts(l.CreatedAt))
		return customerRef(err, l.CustomerID)
	})
	if err != nil {
		return fmt.Errorf("postgres: link %s/%s/%s to customer %s: %w", id.Platform, id.Workspace, id.User, l.CustomerID, err)
	}
	return nil
}

// Unlink removes the link of an identity; bot.ErrNotFound if it had none.
func (s *Store) Unlink(ctx context.Context, id bot.Identity) error {
	err := s.execOne(ctx, `DELETE FROM identities WHERE platform = $1 AND workspace = $2 AND user_id = $3`,
		id.Platform, id.Workspace, id.User)
	if err != nil {
		return fmt.Errorf("postgres: unlink %s/%s/%s: %w", id.Platform, id.Workspace, id.User, err)
	}
	return nil
}

// Links returns every link, ordered by platform, workspace and user, byte
// by byte as store/sqlite orders them, whatever the database's collation.
func (s *Store) Links(ctx context.Context) ([]bot.Link, error) {
	var ls []bot.Link
	err := s.withConn(ctx, func(conn *pgx.Conn) error {
		var err error
		ls, err = queryAll(ctx, conn, func(r scanner) (bot.Link, error) {
			var l bot.Link
			err := r.Scan(&l.Identity.Platform, &l.Identity.Workspace, &l.Identity.User, &l.CustomerID, timeCol{&l.CreatedAt})
			return l, err
		}, `SELECT platform, workspace, user_id, customer_id, created_at FROM identities
			ORDER BY platform COLLATE "C", workspace COLLATE "C", user_id COLLATE "C"`)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: list links: %w", err)
	}
	return ls, nil
}
