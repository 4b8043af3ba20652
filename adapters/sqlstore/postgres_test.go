package sqlstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/firstlinehq/firstline/adapters/sqlstore"
	"github.com/firstlinehq/firstline/adapters/sqlstore/storetest"
	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/bot/app"
)

// testEnv names the variable that points the tests at a PostgreSQL server,
// e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable. .ci/run
// sets it.
const testEnv = "FIRSTLINE_TEST_PG"

// serverURL returns the test server's URL, or skips the test.
func serverURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv(testEnv)
	if u == "" {
		t.Skipf("%s is not set: skipping the PostgreSQL store tests (set it to a server's URL to run them, as .ci/run does)", testEnv)
	}
	return u
}

// mustSchema creates an empty schema of its own for the test and returns
// the server URL with search_path pointing at it, so that each test gets a
// fresh database without creating one. The schema is dropped at the end.
func mustSchema(t *testing.T) string {
	t.Helper()
	base := serverURL(t)
	b := make([]byte, 6)
	rand.Read(b)
	name := "firstline_test_" + hex.EncodeToString(b)

	admin := mustConnect(t, base)
	if _, err := admin.Exec(t.Context(), `CREATE SCHEMA `+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("create schema %s: %v", name, err)
	}
	t.Cleanup(func() {
		// t.Context is done by now; the drop must still happen.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := admin.Exec(ctx, `DROP SCHEMA `+pgx.Identifier{name}.Sanitize()+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
	})
	// application_name marks the sessions of this test's stores, so a test
	// can find (and kill) them.
	return withParams(t, base, "search_path", name, "application_name", name)
}

// withParams returns rawURL with query parameters set, given as name,
// value pairs.
func withParams(t *testing.T, rawURL string, kv ...string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatalf("%s: %v", testEnv, err)
	}
	q := u.Query()
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// mustConnect opens a plain connection, closed at the end of the test.
func mustConnect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatalf("connect to %s: %v", testEnv, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn.Close(ctx)
	})
	return conn
}

// mustOpen opens a store on the database dsn names, closed at the end of
// the test. Several stores on one dsn are several replicas.
func mustOpenPostgres(t *testing.T, dsn string) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.OpenPostgres(t.Context(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestPostgresStore(t *testing.T) {
	serverURL(t)
	storetest.Run(t, func(t *testing.T) app.Store { return mustOpenPostgres(t, mustSchema(t)) })
}

// migrationVersions returns the versions of the embedded migration files.
func migrationVersions(t *testing.T) []int {
	t.Helper()
	names, err := filepath.Glob(filepath.Join("migrations", "postgres", "*.sql"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no migrations found: %v", err)
	}
	var vs []int
	for _, n := range names {
		prefix, _, _ := strings.Cut(filepath.Base(n), "_")
		v, err := strconv.Atoi(prefix)
		if err != nil {
			t.Fatalf("migration file %s: %v", n, err)
		}
		vs = append(vs, v)
	}
	return vs
}

// wantMigrated checks that the schema dsn points at lists every migration
// once, applied within the last minute.
func wantMigrated(t *testing.T, dsn string) {
	t.Helper()
	conn := mustConnect(t, dsn)
	rows, err := conn.Query(t.Context(), `SELECT version, applied_at FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatalf("query schema_migrations: %v", err)
	}
	type applied struct {
		Version   int
		AppliedAt time.Time
	}
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[applied])
	if err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	var versions []int
	for _, a := range got {
		if age := time.Since(a.AppliedAt); age < -time.Minute || age > time.Minute {
			t.Errorf("migration %d applied_at is %v ago", a.Version, age)
		}
		versions = append(versions, a.Version)
	}
	if want := migrationVersions(t); !slices.Equal(versions, want) {
		t.Errorf("schema_migrations versions = %v, want %v (one per file)", versions, want)
	}
}

func TestPostgresMigrations(t *testing.T) {
	dsn := mustSchema(t)
	ctx := t.Context()

	// Data written after the first Open survives the second: re-running
	// migrations neither fails nor recreates tables.
	s, err := sqlstore.OpenPostgres(ctx, dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := s.PutCustomer(ctx, bot.Customer{ID: "C-1"}); err != nil {
		t.Fatalf("PutCustomer: %v", err)
	}
	s.Close()
	if err := sqlstore.MigratePostgres(ctx, dsn); err != nil {
		t.Fatalf("Migrate on a migrated schema: %v", err)
	}
	s = mustOpenPostgres(t, dsn)
	if n, err := s.CustomerCount(ctx); err != nil || n != 1 {
		t.Errorf("CustomerCount after reopening = %d, %v; want 1", n, err)
	}
	wantMigrated(t, dsn)
}

// TestMigrate: `firstline migrate` prepares an empty schema ahead of the
// replicas.
func TestPostgresMigrate(t *testing.T) {
	dsn := mustSchema(t)
	if err := sqlstore.MigratePostgres(t.Context(), dsn); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	wantMigrated(t, dsn)
	mustOpenPostgres(t, dsn)
}

// TestOpenConcurrently starts several replicas and a `firstline migrate` on
// one empty schema at once: the advisory lock lets one migrate while the
// others wait, and all of them then work.
func TestPostgresOpenConcurrently(t *testing.T) {
	dsn := mustSchema(t)
	const replicas = 4
	start := make(chan struct{})
	stores := make([]*sqlstore.Store, replicas)
	var wg sync.WaitGroup
	for i := range replicas {
		wg.Go(func() {
			<-start
			s, err := sqlstore.OpenPostgres(t.Context(), dsn)
			if err != nil {
				t.Errorf("replica %d: Open: %v", i, err)
				return
			}
			stores[i] = s
		})
	}
	wg.Go(func() {
		<-start
		if err := sqlstore.MigratePostgres(t.Context(), dsn); err != nil {
			t.Errorf("Migrate: %v", err)
		}
	})
	close(start)
	wg.Wait()
	for i, s := range stores {
		if s == nil {
			continue
		}
		if err := s.PutCustomer(t.Context(), bot.Customer{ID: fmt.Sprint("C-", i)}); err != nil {
			t.Errorf("replica %d: PutCustomer: %v", i, err)
		}
		s.Close()
	}
	wantMigrated(t, dsn)
}

// TestReplicasClaimHandoff: agents on two replicas press Claim on one
// handoff at the same moment, round after round: exactly one wins each time.
func TestPostgresReplicasClaimHandoff(t *testing.T) {
	dsn := mustSchema(t)
	replicas := []*sqlstore.Store{mustOpenPostgres(t, dsn), mustOpenPostgres(t, dsn)}
	ctx := t.Context()
	const rounds, agentsPerReplica = 30, 3

	for round := range rounds {
		k := bot.ConversationKey{Platform: bot.Slack, Workspace: "T1", Channel: "D1", Thread: fmt.Sprint(round)}
		var h bot.Handoff
		err := replicas[0].WithTx(ctx, func(tx bot.Tx) error {
			c := bot.Conversation{Key: k, State: bot.StateWaiting, User: "U1"}
			if err := tx.CreateConversation(ctx, &c); err != nil {
				return err
			}
			h = bot.Handoff{ConversationID: c.ID, Trigger: bot.TriggerPhrase}
			return tx.CreateHandoff(ctx, &h)
		})
		if err != nil {
			t.Fatalf("round %d: create handoff: %v", round, err)
		}

		start := make(chan struct{})
		var wins atomic.Int32
		winner := make(chan string, len(replicas)*agentsPerReplica)
		var wg sync.WaitGroup
		for r, s := range replicas {
			for a := range agentsPerReplica {
				agent := fmt.Sprintf("U-%d-%d", r, a)
				wg.Go(func() {
					<-start
					err := s.WithTx(ctx, func(tx bot.Tx) error {
						ok, err := tx.ClaimHandoff(ctx, h.ID, agent, agent, time.Now())
						if ok {
							wins.Add(1)
							winner <- agent
						}
						return err
					})
					if err != nil {
						t.Errorf("round %d, agent %s: %v", round, agent, err)
					}
				})
			}
		}
		close(start)
		wg.Wait()
		if n := wins.Load(); n != 1 {
			t.Fatalf("round %d: %d claims won, want exactly 1", round, n)
		}
		var got bot.Handoff
		err = replicas[1].WithTx(ctx, func(tx bot.Tx) error {
			var err error
			got, err = tx.Handoff(ctx, h.ID)
			return err
		})
		if want := <-winner; err != nil || got.AgentID != want || got.State != bot.HandoffClaimed {
			t.Fatalf("round %d: handoff is %q by %q, %v; want claimed by the winner %q", round, got.State, got.AgentID, err, want)
		}
	}
}

// TestReplicasDrainOutbox: dispatchers on three replicas drain one outbox
// at once. No row is ever handed to two of them, every row is delivered,
// and each stream is delivered in order.
func TestPostgresReplicasDrainOutbox(t *testing.T) {
	dsn := mustSchema(t)
	replicas := []*sqlstore.Store{mustOpenPostgres(t, dsn), mustOpenPostgres(t, dsn), mustOpenPostgres(t, dsn)}
	ctx := t.Context()
	const streams, perStream = 40, 8
	created := time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)
	// Rows are queued stream after stream in turns, so ids interleave.
	err := replicas[0].WithTx(ctx, func(tx bot.Tx) error {
		for i := range perStream {
			for st := range streams {
				m := bot.Outgoing{Platform: bot.Slack, Channel: "D1", Stream: fmt.Sprint("s", st),
					Kind: bot.KindReply, Text: fmt.Sprint(i), CreatedAt: created}
				if err := tx.Enqueue(ctx, &m); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("enqueue: %v", err)
	}

	// A fixed "now" and a long lease: a row claimed once is never due
	// again in this test, so any second claim of it is a double send.
	now := created.Add(time.Minute)
	var (
		mu      sync.Mutex
		claims  = map[int64]int{}
		order   = map[string][]int64{} // per stream, in delivery order
		sent    atomic.Int32
		total   = int32(streams * perStream)
		workers sync.WaitGroup
	)
	deadline := time.Now().Add(20 * time.Second)
	for r, s := range replicas {
		for range 2 {
			workers.Go(func() {
				for sent.Load() < total && time.Now().Before(deadline) {
					rows, err := s.Claim(ctx, now, 5, time.Hour)
					if err != nil {
						t.Errorf("replica %d: Claim: %v", r, err)
						return
					}
					for _, m := range rows {
						mu.Lock()
						claims[m.ID]++
						order[m.Stream] = append(order[m.Stream], m.ID)
						mu.Unlock()
						if err := s.MarkSent(ctx, m.ID, fmt.Sprint("M", m.ID), now); err != nil {
							t.Errorf("replica %d: MarkSent: %v", r, err)
							return
						}
						sent.Add(1)
					}
				}
			})
		}
	}
	workers.Wait()

	for id, n := range claims {
		if n != 1 {
			t.Errorf("row %d claimed %d times", id, n)
		}
	}
	if n := sent.Load(); n != total {
		t.Errorf("%d rows delivered, want %d", n, total)
	}
	for stream, ids := range order {
		if !slices.IsSorted(ids) || len(ids) != perStream {
			t.Errorf("stream %s delivered as %v, want %d rows in id order", stream, ids, perStream)
		}
	}
	if rows, err := replicas[1].Due(ctx, now.Add(2*time.Hour), 100); err != nil || len(rows) != 0 {
		t.Errorf("Due after draining: %d rows, %v", len(rows), err)
	}
}

// TestReplicasGetOrCreateConversation: the first message of a conversation
// reaches two replicas at the same moment (Slack's app_mention and message
// events). Both look for the open conversation, find none and create it;
// one insert loses on the one-open-conversation-per-key index, and WithTx
// runs its transaction again, which finds the other's conversation.
func TestPostgresReplicasGetOrCreateConversation(t *testing.T) {
	dsn := mustSchema(t)
	replicas := []*sqlstore.Store{mustOpenPostgres(t, dsn), mustOpenPostgres(t, dsn)}
	ctx := t.Context()
	const rounds, perReplica = 20, 3

	for round := range rounds {
		k := bot.ConversationKey{Platform: bot.Slack, Workspace: "T1", Channel: "C1", Thread: fmt.Sprint(round)}
		start := make(chan struct{})
		ids := make(chan int64, len(replicas)*perReplica)
		var wg sync.WaitGroup
		for r, s := range replicas {
			for range perReplica {
				wg.Go(func() {
					<-start
					var id int64
					err := s.WithTx(ctx, func(tx bot.Tx) error {
						c, err := tx.ActiveConversation(ctx, k)
						if errors.Is(err, bot.ErrNotFound) {
							c = bot.Conversation{Key: k, State: bot.StateBot, User: "U1"}
							err = tx.CreateConversation(ctx, &c)
						}
						id = c.ID
						return err
					})
					if err != nil {
						t.Errorf("round %d, replica %d: WithTx: %v", round, r, err)
						return
					}
					ids <- id
				})
			}
		}
		close(start)
		wg.Wait()
		close(ids)
		var seen []int64
		for id := range ids {
			seen = append(seen, id)
		}
		if len(slices.Compact(slices.Sorted(slices.Values(seen)))) != 1 {
			t.Fatalf("round %d: the replicas saw conversations %v, want one", round, seen)
		}
	}
	var retries int64
	for _, s := range replicas {
		retries += sqlstore.Retries(s)
	}
	t.Logf("%d transactions ran again after losing the race", retries)
	if retries == 0 {
		t.Error("no transaction lost the get-or-create race in any round: the retry path was not exercised")
	}
}

// TestReplicasReadThenWrite: read-modify-write of one conversation from two
// replicas never loses an update (the read locks the row).
func TestPostgresReplicasReadThenWrite(t *testing.T) {
	dsn := mustSchema(t)
	replicas := []*sqlstore.Store{mustOpenPostgres(t, dsn), mustOpenPostgres(t, dsn)}
	ctx := t.Context()
	c := bot.Conversation{Key: bot.ConversationKey{Platform: bot.Console, Channel: "tty"}, State: bot.StateBot}
	if err := replicas[0].WithTx(ctx, func(tx bot.Tx) error { return tx.CreateConversation(ctx, &c) }); err != nil {
		t.Fatal(err)
	}
	const perReplica = 20
	var wg sync.WaitGroup
	for _, s := range replicas {
		for range perReplica {
			wg.Go(func() {
				err := s.WithTx(ctx, func(tx bot.Tx) error {
					cur, err := tx.Conversation(ctx, c.ID)
					if err != nil {
						return err
					}
					cur.Misses++
					return tx.UpdateConversation(ctx, cur)
				})
				if err != nil {
					t.Errorf("WithTx: %v", err)
				}
			})
		}
	}
	wg.Wait()
	var got bot.Conversation
	err := replicas[1].WithTx(ctx, func(tx bot.Tx) error {
		var err error
		got, err = tx.Conversation(ctx, c.ID)
		return err
	})
	if err != nil || got.Misses != len(replicas)*perReplica {
		t.Errorf("Misses = %d, %v after %d increments", got.Misses, err, len(replicas)*perReplica)
	}
}

// TestLostConnections: the server ends the store's sessions (a restart, a
// failover, an administrator): transactions carry on with new connections.
func TestPostgresLostConnections(t *testing.T) {
	dsn := mustSchema(t)
	s := mustOpenPostgres(t, dsn)
	ctx := t.Context()
	mustCustomer := func() {
		t.Helper()
		if err := s.PutCustomer(ctx, bot.Customer{ID: "C-1"}); err != nil {
			t.Fatalf("PutCustomer: %v", err)
		}
	}
	mustCustomer()

	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	admin := mustConnect(t, serverURL(t))
	var killed int
	err = admin.QueryRow(ctx, `SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = $1 AND pid <> pg_backend_pid()`, u.Query().Get("application_name")).Scan(&killed)
	if err != nil || killed == 0 {
		t.Fatalf("terminate the store's sessions: %d terminated, %v", killed, err)
	}

	var c string
	err = s.WithTx(ctx, func(tx bot.Tx) error {
		var err error
		c, err = tx.CustomerFor(ctx, bot.NewIdentity(bot.Slack, "T1", "U1"))
		if errors.Is(err, bot.ErrNotFound) {
			c, err = "none", nil
		}
		return err
	})
	if err != nil || c != "none" {
		t.Fatalf("WithTx after the sessions were terminated: %q, %v", c, err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

// TestCancelledTransaction: a transaction given up while it waits for a
// lock ends, and leaves the store (its connections) usable.
func TestPostgresCancelledTransaction(t *testing.T) {
	dsn := mustSchema(t)
	s := mustOpenPostgres(t, dsn)
	ctx := t.Context()
	c := bot.Conversation{Key: bot.ConversationKey{Platform: bot.Console, Channel: "tty"}, State: bot.StateBot}
	if err := s.WithTx(ctx, func(tx bot.Tx) error { return tx.CreateConversation(ctx, &c) }); err != nil {
		t.Fatal(err)
	}

	locked, release := make(chan struct{}), make(chan struct{})
	holder := make(chan error, 1)
	go func() {
		holder <- s.WithTx(ctx, func(tx bot.Tx) error {
			if _, err := tx.Conversation(ctx, c.ID); err != nil {
				return err
			}
			close(locked)
			<-release
			return nil
		})
	}()
	<-locked
	wctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	err := s.WithTx(wctx, func(tx bot.Tx) error {
		_, err := tx.Conversation(wctx, c.ID)
		return err
	})
	if err == nil {
		t.Error("WithTx waiting for a locked row past its deadline succeeded")
	}
	close(release)
	if err := <-holder; err != nil {
		t.Fatalf("lock holder: %v", err)
	}
	for i := range 10 { // more than the pool holds: a broken connection would show
		if err := s.WithTx(ctx, func(tx bot.Tx) error { _, err := tx.Conversation(ctx, c.ID); return err }); err != nil {
			t.Fatalf("WithTx %d after the cancelled one: %v", i, err)
		}
	}
}

// TestCloseWaits: Close waits for a transaction in progress, and the store
// refuses work afterwards.
func TestPostgresCloseWaits(t *testing.T) {
	dsn := mustSchema(t)
	s, err := sqlstore.OpenPostgres(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	inTx, release := make(chan struct{}), make(chan struct{})
	txDone := make(chan error, 1)
	go func() {
		txDone <- s.WithTx(ctx, func(tx bot.Tx) error {
			close(inTx)
			<-release
			_, err := tx.CustomerFor(ctx, bot.NewIdentity(bot.Slack, "T1", "U1"))
			if errors.Is(err, bot.ErrNotFound) {
				err = nil
			}
			return err
		})
	}()
	<-inTx
	closed := make(chan struct{})
	go func() {
		s.Close()
		close(closed)
	}()
	select {
	case <-closed:
		t.Fatal("Close returned while a transaction was running")
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if err := <-txDone; err != nil {
		t.Errorf("transaction running at Close: %v", err)
	}
	<-closed
	if err := s.Ping(ctx); err == nil {
		t.Error("Ping after Close succeeded")
	}
}

// TestPostgresDefaults: fields a caller leaves zero get the values the
// engine would have set, and are written back (as on SQLite). PostgreSQL
// keeps microseconds, so the times may be up to a second before the test's
// clock read them.
func TestPostgresDefaults(t *testing.T) {
	checkDefaults(t, mustOpenPostgres(t, mustSchema(t)), time.Now().Add(-time.Second),
		func(stream string) bool { return stream == "console::tty:" })
}

// TestForeignKeys: references are enforced, so a bug cannot leave a
// handoff without its conversation.
func TestPostgresForeignKeys(t *testing.T) {
	s := mustOpenPostgres(t, mustSchema(t))
	ctx := t.Context()
	err := s.WithTx(ctx, func(tx bot.Tx) error {
		return tx.CreateHandoff(ctx, &bot.Handoff{ConversationID: 999, Trigger: bot.TriggerPhrase})
	})
	if err == nil {
		t.Error("CreateHandoff for a conversation that does not exist succeeded")
	}
}

// closedPort returns a local TCP port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// TestPasswordNotInErrors: whatever goes wrong connecting, the password in
// the URL appears neither in the error's text nor in anything errors.As
// can reach. This needs no server.
func TestPostgresPasswordNotInErrors(t *testing.T) {
	const secret = "s3cr3t-Pa55"
	port := closedPort(t)
	tests := []struct {
		name string
		dsn  string
	}{
		{"unreachable server", fmt.Sprintf("postgres://firstline:%s@127.0.0.1:%d/firstline?sslmode=disable&connect_timeout=5", secret, port)},
		{"password as a parameter", fmt.Sprintf("postgresql://firstline@127.0.0.1:%d/firstline?sslmode=disable&password=%s", port, secret)},
		{"bad port", fmt.Sprintf("postgres://firstline:%s@127.0.0.1:notaport/firstline", secret)},
		{"bad escape", fmt.Sprintf("postgres://firstline:%s%%zz@127.0.0.1/firstline", secret)},
		{"bad parameter", fmt.Sprintf("postgres://firstline:%s@127.0.0.1:%d/firstline?sslmode=sometimes", secret, port)},
		{"bad pool size", fmt.Sprintf("postgres://firstline:%s@127.0.0.1:%d/firstline?pool_max_conns=many", secret, port)},
		{"keyword/value", fmt.Sprintf("host=127.0.0.1 port=%d user=firstline password=%s sslmode=disable", port, secret)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for op, fn := range map[string]func() error{
				"Open": func() error {
					s, err := sqlstore.OpenPostgres(t.Context(), tt.dsn)
					if err == nil {
						s.Close()
					}
					return err
				},
				"Migrate": func() error { return sqlstore.MigratePostgres(t.Context(), tt.dsn) },
			} {
				err := fn()
				if err == nil {
					t.Fatalf("%s succeeded, want an error", op)
				}
				for _, text := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
					if strings.Contains(text, secret) {
						t.Errorf("%s error shows the password: %s", op, text)
					}
				}
				if !strings.HasPrefix(err.Error(), "postgres: ") {
					t.Errorf("%s error %q does not say where it comes from", op, err)
				}
				var parseErr *pgconn.ParseConfigError
				var connectErr *pgconn.ConnectError
				if errors.As(err, &parseErr) || errors.As(err, &connectErr) {
					t.Errorf("%s error unwraps to a pgconn error that holds the password: %T", op, err)
				}
			}
		})
	}
}

// TestDeadlockRetried: two replicas lock two conversations in opposite
// orders. PostgreSQL breaks the deadlock by failing one transaction
// (40P01), and WithTx runs that one again: both succeed.
func TestPostgresDeadlockRetried(t *testing.T) {
	dsn := mustSchema(t)
	replicas := []*sqlstore.Store{mustOpenPostgres(t, dsn), mustOpenPostgres(t, dsn)}
	ctx := t.Context()
	var convs [2]bot.Conversation
	for i := range convs {
		convs[i] = bot.Conversation{Key: bot.ConversationKey{Platform: bot.Console, Channel: fmt.Sprint("tty", i)}, State: bot.StateBot}
		if err := replicas[0].WithTx(ctx, func(tx bot.Tx) error { return tx.CreateConversation(ctx, &convs[i]) }); err != nil {
			t.Fatal(err)
		}
	}

	// Each transaction locks its first conversation, waits (on its first
	// run only) until the other has locked its own, then locks the other.
	var holding [2]sync.WaitGroup
	holding[0].Add(1)
	holding[1].Add(1)
	var once [2]sync.Once
	var wg sync.WaitGroup
	for i, s := range replicas {
		first, second := convs[i], convs[1-i]
		wg.Go(func() {
			err := s.WithTx(ctx, func(tx bot.Tx) error {
				c, err := tx.Conversation(ctx, first.ID)
				if err != nil {
					return err
				}
				once[i].Do(func() {
					holding[i].Done()
					holding[1-i].Wait()
				})
				d, err := tx.Conversation(ctx, second.ID)
				if err != nil {
					return err
				}
				c.Misses++
				d.Misses++
				if err := tx.UpdateConversation(ctx, c); err != nil {
					return err
				}
				return tx.UpdateConversation(ctx, d)
			})
			if err != nil {
				t.Errorf("replica %d: WithTx: %v", i, err)
			}
		})
	}
	wg.Wait()
	if n := sqlstore.Retries(replicas[0]) + sqlstore.Retries(replicas[1]); n == 0 {
		t.Error("no transaction was run again after the deadlock")
	}
	for _, c := range convs {
		var got bot.Conversation
		err := replicas[0].WithTx(ctx, func(tx bot.Tx) error {
			var err error
			got, err = tx.Conversation(ctx, c.ID)
			return err
		})
		if err != nil || got.Misses != 2 {
			t.Errorf("conversation %d: Misses = %d, %v; want 2 (both transactions committed once)", c.ID, got.Misses, err)
		}
	}
}

// TestReplicasCustomerAndAgent: a customer writes (engine, one replica)
// while an agent claims the handoff (handoff flow, another replica). The
// engine locks the conversation and reads the open handoff without locking
// it; the agent locks the handoff, then the conversation. Same order both
// ways, so they take turns and never deadlock (a deadlock would cost a
// second before PostgreSQL noticed, and a retry).
func TestPostgresReplicasCustomerAndAgent(t *testing.T) {
	dsn := mustSchema(t)
	engine, agents := mustOpenPostgres(t, dsn), mustOpenPostgres(t, dsn)
	ctx := t.Context()
	const rounds = 25

	for round := range rounds {
		k := bot.ConversationKey{Platform: bot.Slack, Workspace: "T1", Channel: "D1", Thread: fmt.Sprint(round)}
		var h bot.Handoff
		err := engine.WithTx(ctx, func(tx bot.Tx) error {
			c := bot.Conversation{Key: k, State: bot.StateWaiting, User: "U1"}
			if err := tx.CreateConversation(ctx, &c); err != nil {
				return err
			}
			h = bot.Handoff{ConversationID: c.ID, Trigger: bot.TriggerPhrase, AgentPlatform: bot.Slack, AgentChannel: "C-AGENTS"}
			return tx.CreateHandoff(ctx, &h)
		})
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}

		start := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() { // the customer's message
			<-start
			err := engine.WithTx(ctx, func(tx bot.Tx) error {
				c, err := tx.ActiveConversation(ctx, k)
				if err != nil {
					return err
				}
				open, err := tx.OpenHandoff(ctx, c.ID)
				if err != nil {
					return err
				}
				post := bot.Outgoing{Platform: bot.Slack, Channel: "C-AGENTS", Stream: fmt.Sprint("handoff:", open.ID),
					Kind: bot.KindThread, Text: "Customer: hello?", ConversationID: c.ID, HandoffID: open.ID}
				if err := tx.Enqueue(ctx, &post); err != nil {
					return err
				}
				c.LastMessageAt = time.Now()
				return tx.UpdateConversation(ctx, c)
			})
			if err != nil {
				t.Errorf("round %d: customer message: %v", round, err)
			}
		})
		wg.Go(func() { // the agent's claim
			<-start
			err := agents.WithTx(ctx, func(tx bot.Tx) error {
				cur, err := tx.Handoff(ctx, h.ID)
				if err != nil {
					return err
				}
				if ok, err := tx.ClaimHandoff(ctx, cur.ID, "UA", "Agent", time.Now()); err != nil || !ok {
					return errors.Join(err, errors.New("claim lost"))
				}
				c, err := tx.Conversation(ctx, cur.ConversationID)
				if err != nil {
					return err
				}
				c.State = bot.StateAgent
				return tx.UpdateConversation(ctx, c)
			})
			if err != nil {
				t.Errorf("round %d: claim: %v", round, err)
			}
		})
		close(start)
		wg.Wait()
	}
	if n := sqlstore.Retries(engine) + sqlstore.Retries(agents); n != 0 {
		t.Errorf("%d transactions were run again: the engine and the handoff flow deadlocked", n)
	}
}

// TestPoolSize: pool_max_conns bounds a replica's sessions, however many
// transactions want one; the others wait their turn.
func TestPostgresPoolSize(t *testing.T) {
	dsn := withParams(t, mustSchema(t), "pool_max_conns", "2")
	s := mustOpenPostgres(t, dsn)
	ctx := t.Context()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	admin := mustConnect(t, serverURL(t))
	sessions := func() int {
		t.Helper()
		var n int
		if err := admin.QueryRow(ctx, `SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = $1`,
			u.Query().Get("application_name")).Scan(&n); err != nil {
			t.Fatalf("count sessions: %v", err)
		}
		return n
	}

	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			err := s.WithTx(ctx, func(tx bot.Tx) error {
				_, err := tx.RecentMessages(ctx, 1, 1)
				time.Sleep(20 * time.Millisecond)
				return err
			})
			if err != nil {
				t.Errorf("WithTx: %v", err)
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	most := 0
	for {
		most = max(most, sessions())
		select {
		case <-done:
			switch {
			case most > 2:
				t.Errorf("%d sessions open at once, want at most pool_max_conns=2", most)
			case most == 0:
				t.Error("no session of the store seen: the test measured nothing")
			}
			return
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// TestLead: of two replicas one leads; when it dies (its session ends) the
// other takes over within seconds.
func TestPostgresLead(t *testing.T) {
	dsn := mustSchema(t)
	ctx := t.Context()
	a, err := sqlstore.OpenPostgres(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := sqlstore.OpenPostgres(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	name := "gateway-" + t.Name()
	lostA, releaseA, err := a.Lead(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if _, _, err := b.Lead(waitCtx, name); err == nil {
		t.Fatal("a second replica became leader while the first leads")
	}
	took := make(chan time.Duration, 1)
	start := time.Now()
	go func() {
		lostB, releaseB, err := b.Lead(ctx, name)
		if err != nil {
			took <- -1
			return
		}
		defer releaseB()
		select {
		case <-lostB:
			took <- -2
		default:
			took <- time.Since(start)
		}
	}()
	releaseA()
	select {
	case <-lostA:
	default:
		t.Error("lost not closed after release")
	}
	select {
	case d := <-took:
		if d < 0 {
			t.Fatalf("takeover failed (%v)", d)
		}
		t.Logf("takeover after %v", d)
	case <-time.After(10 * time.Second):
		t.Fatal("no takeover within 10s")
	}
}

// TestLeadPerSchema: advisory locks are per database, but leadership is
// per deployment. Two deployments in separate schemas of one database each
// get their own gateway holder.
func TestPostgresLeadPerSchema(t *testing.T) {
	ctx := t.Context()
	const name = "discord-gateway"
	var releases []func()
	defer func() {
		for _, r := range releases {
			r()
		}
	}()
	for _, dsn := range []string{mustSchema(t), mustSchema(t)} {
		s, err := sqlstore.OpenPostgres(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		waitCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, release, err := s.Lead(waitCtx, name)
		cancel()
		if err != nil {
			t.Fatalf("leading %q in a schema of its own: %v (another schema's leader holds the lock)", name, err)
		}
		releases = append(releases, release)
	}
}
