package sqlstore

// Retries returns how many transactions s ran again after a conflict, so
// tests can tell that the retry path was taken.
func Retries(s *Store) int64 { return s.retries.Load() }
