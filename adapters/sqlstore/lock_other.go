//go:build !unix

package sqlstore

import "io"

// lockFile has no flock to take here: Exclusive then cannot tell a running
// process from a stopped one, so it neither refuses a second process nor
// releases leases, which run out as they would with several replicas.
func lockFile(string) (io.Closer, error) { return nil, ErrNoLock }
