package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/firstlinehq/firstline/bot"
)

// The customers table as the customer directory (bot.Directory) and its
// admin (bot.CustomerTable): what `firstline customers import` fills when
// the company's API is not the directory.

const customerCols = `id, name, email`

func scanCustomer(r scanner) (bot.Customer, error) {
	var c bot.Customer
	err := r.Scan(&c.ID, &c.Name, &c.Email)
	return c, err
}

// Customer implements bot.Directory.
func (s *Store) Customer(ctx context.Context, id string) (bot.Customer, error) {
	c, err := scanCustomer(s.r.queryRow(ctx, `SELECT `+customerCols+` FROM customers WHERE id = $1`, id))
	if err != nil {
		return bot.Customer{}, s.errorf("customer %s: %w", id, notFound(s.d.redact(err)))
	}
	return c, nil
}

// maxEmailMatches bounds what CustomersByEmail returns: more than one is
// already ambiguous to every caller.
const maxEmailMatches = 10

// CustomersByEmail implements bot.Directory. Case is folded as the dialect
// folds it: SQLite's NOCASE folds ASCII only, PostgreSQL's lower() follows
// the database's locale. The email <> ” term lets the partial index
// customers_email serve the lookup.
func (s *Store) CustomersByEmail(ctx context.Context, email string) ([]bot.Customer, error) {
	email = strings.TrimSpace(email)
	if email == "" {
		return []bot.Customer{}, nil
	}
	cs, err := queryAll(ctx, s.r, scanCustomer, `SELECT `+customerCols+` FROM customers
		WHERE `+s.d.equalFold("email", "$1")+` AND email <> ''
		ORDER BY `+s.d.bytewise("id")+` LIMIT $2`, email, maxEmailMatches)
	if err != nil {
		return nil, s.errorf("customers by email: %w", s.d.redact(err))
	}
	return cs, nil
}

// ListCustomers implements bot.CustomerTable.
func (s *Store) ListCustomers(ctx context.Context, after string, limit int) ([]bot.Customer, error) {
	cs, err := queryAll(ctx, s.r, scanCustomer, `SELECT `+customerCols+` FROM customers
		WHERE `+s.d.bytewise("id")+` > $1 ORDER BY `+s.d.bytewise("id")+` LIMIT $2`, after, limit)
	if err != nil {
		return nil, s.errorf("list customers: %w", s.d.redact(err))
	}
	return cs, nil
}

// importBatch is how many customers one INSERT writes: few statements for
// a large import, and well under SQLite's limit of bound parameters.
const importBatch = 300

// ImportCustomers implements bot.CustomerTable, in one transaction. The
// table is read whole first (a company's customers fit in memory), so
// that the email rule is checked against what the table will hold after
// the import rather than row by row.
func (s *Store) ImportCustomers(ctx context.Context, cs []bot.Customer, skipConflicts bool) (bot.ImportResult, error) {
	var res bot.ImportResult
	// The transaction runs on a context that is never cancelled, and the
	// caller's is checked between its steps instead: a cancellation that
	// lands during COMMIT would leave the outcome unknown (PostgreSQL may
	// have committed what the caller is told failed). Past the last check,
	// the import commits, or fails with the database's own error.
	caller := ctx
	ctx = context.WithoutCancel(ctx)
	err := s.write(ctx, func(t *tx) error {
		res = bot.ImportResult{}
		if err := caller.Err(); err != nil {
			return err
		}
		// The plan is made on the table as read, so no other import or
		// change may write it in between (PostgreSQL's READ COMMITTED would
		// let two imports give one email to two customers).
		if lock := t.d.lockWrites("customers"); lock != "" {
			if _, err := t.exec(ctx, lock); err != nil {
				return fmt.Errorf("lock the customers: %w", err)
			}
		}
		stored, err := queryAll(ctx, t, scanCustomer, `SELECT `+customerCols+` FROM customers ORDER BY `+t.d.bytewise("id"))
		if err != nil {
			return fmt.Errorf("read the customers: %w", err)
		}
		plan, err := planImport(stored, cs)
		if err != nil {
			return err
		}
		res = plan.result
		if len(res.Conflicts) > 0 && !skipConflicts {
			return nil // nothing written
		}
		for len(plan.write) > 0 {
			if err := caller.Err(); err != nil {
				return err
			}
			n := min(importBatch, len(plan.write))
			if err := t.upsertCustomers(ctx, plan.write[:n]); err != nil {
				return err
			}
			plan.write = plan.write[n:]
		}
		return caller.Err()
	})
	if err != nil {
		return bot.ImportResult{}, s.errorf("import customers: %w", s.d.redact(err))
	}
	return res, nil
}

func (t *tx) upsertCustomers(ctx context.Context, cs []bot.Customer) error {
	var q strings.Builder
	q.WriteString(`INSERT INTO customers (id, name, email) VALUES `)
	args := make([]any, 0, 3*len(cs))
	for i, c := range cs {
		if i > 0 {
			q.WriteString(", ")
		}
		fmt.Fprintf(&q, "($%d, $%d, $%d)", 3*i+1, 3*i+2, 3*i+3)
		args = append(args, c.ID, c.Name, c.Email)
	}
	q.WriteString(` ON CONFLICT (id) DO UPDATE SET name = excluded.name, email = excluded.email`)
	if _, err := t.exec(ctx, q.String(), args...); err != nil {
		return fmt.Errorf("write %d customers: %w", len(cs), err)
	}
	return nil
}

// importPlan is what an import writes and what it reports.
type importPlan struct {
	write  []bot.Customer
	result bot.ImportResult
}

// planImport decides an import against the stored customers: which rows
// are new, changed or the same, and which cannot be written because their
// email would then be on two customers. A stored customer the import does
// not change keeps its email; among the rows, the earlier one does.
// Rejecting a row keeps its customer's stored email, which may in turn
// take the email from a later row, so the check runs until nothing
// changes (each round rejects more rows or ends).
func planImport(stored, cs []bot.Customer) (importPlan, error) {
	byID := make(map[string]bot.Customer, len(stored))
	for _, c := range stored {
		byID[c.ID] = c
	}
	seen := make(map[string]int, len(cs))
	for i, c := range cs {
		if c.ID == "" {
			return importPlan{}, fmt.Errorf("row %d: empty id", i)
		}
		if j, dup := seen[c.ID]; dup {
			return importPlan{}, fmt.Errorf("rows %d and %d: the same id", j, i)
		}
		seen[c.ID] = i
	}
	rejected := map[int]string{}
	var owner map[string]string
	for {
		owner = make(map[string]string, len(stored)+len(cs))
		for _, c := range stored {
			if i, imported := seen[c.ID]; !imported || rejected[i] != "" {
				claimEmail(owner, c)
			}
		}
		more := false
		for i, c := range cs {
			if rejected[i] != "" {
				continue
			}
			if other, taken := owner[foldEmail(c.Email)]; taken && other != c.ID {
				rejected[i], more = other, true
				continue
			}
			claimEmail(owner, c)
		}
		if !more {
			break
		}
	}
	var p importPlan
	for i, c := range cs {
		if other := rejected[i]; other != "" {
			// Name who has the email in the end: the row that took it in
			// an early round may have been rejected itself later.
			if final := owner[foldEmail(c.Email)]; final != "" && final != c.ID {
				other = final
			}
			p.result.Conflicts = append(p.result.Conflicts, bot.ImportConflict{Index: i, Other: other})
			continue
		}
		old, exists := byID[c.ID]
		switch {
		case !exists:
			p.result.Added++
		case old == c:
			p.result.Unchanged++
			continue
		default:
			p.result.Updated++
		}
		p.write = append(p.write, c)
	}
	return p, nil
}

// claimEmail records that c has its email, when it has one.
func claimEmail(owner map[string]string, c bot.Customer) {
	if e := foldEmail(c.Email); e != "" {
		if _, taken := owner[e]; !taken {
			owner[e] = c.ID
		}
	}
}

// foldEmail is an email as the import compares them: trimmed, lower case.
func foldEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

// RemoveCustomer implements bot.CustomerTable.
func (s *Store) RemoveCustomer(ctx context.Context, id string, unlink bool, audit *bot.AuditEntry) (bot.Removed, error) {
	var r bot.Removed
	err := s.write(ctx, func(t *tx) error {
		r = bot.Removed{}
		// The customer row is locked first: a customer the table does not
		// hold is not found, whatever links name it (an API directory's).
		var one int
		if err := t.queryRow(ctx, `SELECT 1 FROM customers WHERE id = $1`+t.d.lockRow(), id).Scan(&one); err != nil {
			return notFound(err)
		}
		var links int64
		if err := t.queryRow(ctx, `SELECT COUNT(*) FROM identities WHERE customer_id = $1`, id).Scan(&links); err != nil {
			return fmt.Errorf("count links: %w", err)
		}
		if links > 0 && !unlink {
			return fmt.Errorf("%d chat identities: %w", links, bot.ErrLinked)
		}
		var err error
		if unlink {
			if r.Links, err = t.execN(ctx, `DELETE FROM identities WHERE customer_id = $1`, id); err != nil {
				return fmt.Errorf("unlink: %w", err)
			}
		}
		// A verification about to link to the customer links nobody now.
		if _, err := t.exec(ctx, `UPDATE verifications SET customer_id = NULL, code_hash = '' WHERE customer_id = $1`, id); err != nil {
			return fmt.Errorf("end verifications: %w", err)
		}
		if r.Payments, err = t.execN(ctx, `DELETE FROM payments WHERE customer_id = $1`, id); err != nil {
			return fmt.Errorf("delete payments: %w", err)
		}
		found, err := t.execOne(ctx, `DELETE FROM customers WHERE id = $1`, id)
		switch {
		case err != nil:
			return fmt.Errorf("delete: %w", err)
		case !found:
			return bot.ErrNotFound
		}
		if audit != nil {
			return t.AppendAudit(ctx, audit)
		}
		return nil
	})
	if err != nil {
		return bot.Removed{}, s.errorf("remove customer %s: %w", id, s.d.redact(err))
	}
	return r, nil
}
