package sqlstore_test

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/firstlinehq/firstline/bot"
)

// TestAuditLogAppendOnly: the database itself refuses to change or delete
// an audit entry, whatever code (or person with the file) asks.
func TestSQLiteAuditLogAppendOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "firstline.db")
	s := mustOpenSQLitePath(t, path)
	ctx := t.Context()
	e := bot.AuditEntry{Actor: "admin:root", CustomerID: "C-1", Action: bot.AuditErase, Outcome: bot.AuditAllowed}
	if err := s.WithTx(ctx, func(tx bot.Tx) error { return tx.AppendAudit(ctx, &e) }); err != nil {
		t.Fatalf("AppendAudit: %v", err)
	}
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, stmt := range []string{
		`UPDATE audit_log SET customer_id = 'C-2'`,
		`DELETE FROM audit_log`,
	} {
		_, err := db.ExecContext(ctx, stmt)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v, want the append-only refusal", stmt, err)
		}
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE customer_id = 'C-1'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("audit entries after the refused changes = %d, %v; want 1", n, err)
	}
}
