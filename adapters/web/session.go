package web

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"sync"
	"time"
)

// sessions are the KPI page's sessions, kept in memory: a visit with the
// token opens one, and the browser holds only its random id. They end
// after their ttl, when the process restarts, or, past limit, oldest first.
// Expired ones are dropped when met.
type sessions struct {
	ttl   time.Duration
	limit int
	now   func() time.Time

	mu sync.Mutex
	// byID maps the SHA-256 of a session id to when it expires: the map
	// is looked up with a hash of what the client sent, so its timing says
	// nothing about the ids.
	byID map[[sha256.Size]byte]time.Time
}

func newSessions(ttl time.Duration, limit int, now func() time.Time) *sessions {
	return &sessions{ttl: ttl, limit: limit, now: now, byID: map[[sha256.Size]byte]time.Time{}}
}

// open starts a session and returns its id: 32 random bytes, base64url.
func (s *sessions) open() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("session id: %w", err)
	}
	id := base64.RawURLEncoding.EncodeToString(b)
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.byID) >= s.limit {
		s.dropLocked(now)
	}
	s.byID[sha256.Sum256([]byte(id))] = now.Add(s.ttl)
	return id, nil
}

// valid reports whether id is a session that has not expired.
func (s *sessions) valid(id string) bool {
	if id == "" {
		return false
	}
	key := sha256.Sum256([]byte(id))
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	until, ok := s.byID[key]
	if !ok {
		return false
	}
	if !now.Before(until) {
		delete(s.byID, key)
		return false
	}
	return true
}

// dropLocked makes room for one more session: it drops the expired ones,
// or when none has, the oldest (every session lasts ttl, so the one that
// expires first).
func (s *sessions) dropLocked(now time.Time) {
	var oldest [sha256.Size]byte
	var oldestUntil time.Time
	for k, until := range s.byID {
		if !now.Before(until) {
			delete(s.byID, k)
			continue
		}
		if oldestUntil.IsZero() || until.Before(oldestUntil) {
			oldest, oldestUntil = k, until
		}
	}
	if len(s.byID) >= s.limit {
		delete(s.byID, oldest)
	}
}

// count is the number of sessions kept, expired ones included.
func (s *sessions) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byID)
}
