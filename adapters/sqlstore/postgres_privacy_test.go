package sqlstore_test

import (
	"strings"
	"testing"

	"github.com/firstlinehq/firstline/bot"
)

// TestAuditLogAppendOnly: the database itself refuses to change, delete or
// truncate audit entries, whatever code (or person with a connection) asks.
func TestPostgresAuditLogAppendOnly(t *testing.T) {
	dsn := mustSchema(t)
	s := mustOpenPostgres(t, dsn)
	ctx := t.Context()
	e := bot.AuditEntry{Actor: "admin:root", CustomerID: "C-1", Action: bot.AuditErase, Outcome: bot.AuditAllowed}
	if err := s.WithTx(ctx, func(tx bot.Tx) error { return tx.AppendAudit(ctx, &e) }); err != nil {
		t.Fatalf("AppendAudit: %v", err)
	}
	conn := mustConnect(t, dsn)
	for _, stmt := range []string{
		`UPDATE audit_log SET customer_id = 'C-2'`,
		`DELETE FROM audit_log`,
		`TRUNCATE audit_log`,
	} {
		_, err := conn.Exec(ctx, stmt)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v, want the append-only refusal", stmt, err)
		}
	}
	var n int
	if err := conn.QueryRow(ctx, `SELECT COUNT(*) FROM audit_log WHERE customer_id = 'C-1'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("audit entries after the refused changes = %d, %v; want 1", n, err)
	}
}
