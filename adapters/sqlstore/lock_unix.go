//go:build unix

package sqlstore

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// lockFile creates path if needed and takes an exclusive flock on it
// without waiting. The lock lives as long as the returned file is open,
// and the kernel releases it when the process ends, however it ends.
// flock is separate from the POSIX locks SQLite takes, and it is on a file
// of its own, so closing it never drops SQLite's locks.
func lockFile(path string) (io.Closer, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w (%s is locked)", ErrInUse, path)
		}
		if errors.Is(err, syscall.ENOLCK) || errors.Is(err, syscall.EOPNOTSUPP) || errors.Is(err, syscall.ENOSYS) {
			// A file system without flock (some network mounts): run
			// without the lock rather than not at all.
			return nil, fmt.Errorf("%w: %s: %w", ErrNoLock, path, err)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return f, nil
}
