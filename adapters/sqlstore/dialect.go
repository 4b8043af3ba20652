package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/firstlinehq/firstline/bot"
)

// dialect is what differs between SQLite (sqlite.go) and PostgreSQL
// (postgres.go). Everything else is written once.
type dialect interface {
	// name prefixes the store's errors.
	name() string
	// where names the database in errors, never with a password.
	where() string

	// query turns a query written with $n placeholders into the dialect's.
	query(q string) string
	// args turns query arguments into the driver's: stamps become the
	// dialect's times.
	args(args []any) []any

	// lockRow is appended to a SELECT of a row the transaction goes on to
	// change; lockKeyShare to one of a row it only needs to keep existing;
	// skipLocked to a SELECT of rows a batch job may leave to the next run.
	lockRow() string
	lockKeyShare() string
	skipLocked() string
	// lockWrites is a statement that keeps other writers of table out
	// until the transaction ends ("" where the transaction already does:
	// SQLite's write transactions hold the database).
	lockWrites(table string) string
	// bytewise orders col byte by byte, whatever the database's collation.
	bytewise(col string) string
	// equalFold is the condition that col equals the parameter param,
	// ignoring case.
	equalFold(col, param string) string
	// isFalse is the condition that the boolean column col is false, as
	// the partial indexes on it are written.
	isFalse(col string) string
	// later is the later of two times, b maybe NULL (then a).
	later(a, b string) string
	// noLimit is the LIMIT argument that limits nothing.
	noLimit() any

	// insert runs tx.insert: the id of the row an INSERT stored.
	insert(ctx context.Context, t *tx, query string, args []any) (int64, bool, error)

	// txOptions are the options of WithTx's transactions; readTxOptions of
	// the read-only transaction of a report.
	txOptions() *sql.TxOptions
	readTxOptions() *sql.TxOptions
	// maxTxAttempts bounds how often WithTx runs fn for one call.
	maxTxAttempts() int
	// conflict reports whether a failed transaction is worth running
	// again: it lost to a concurrent one.
	conflict(err error) bool
	// uniqueViolation reports whether err violates the unique index or
	// constraint named constraint; foreignKeyViolation whether err is a
	// reference to a row that does not exist.
	uniqueViolation(err error, constraint string) bool
	foreignKeyViolation(err error) bool
	// redact takes passwords out of a connection error.
	redact(err error) error

	// claim selects the due outbox rows (dueQuery) and leases them until
	// now+lease, so that no other dispatcher sends them meanwhile.
	claim(ctx context.Context, s *Store, now time.Time, limit int, lease time.Duration) ([]bot.Outgoing, error)
	// lead makes the process the leader of name (Store.Lead).
	lead(ctx context.Context, s *Store, name string) (<-chan struct{}, func(), error)
	// beforeClose runs before the pools close.
	beforeClose(s *Store) error
}
