package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// profiles are the server's profiles of -pprof: CPU, and block and mutex
// contention over the same window (delta profiles, ?seconds=).
var profiles = []struct{ name, path string }{
	{"cpu", "/debug/pprof/profile"},
	{"block", "/debug/pprof/block"},
	{"mutex", "/debug/pprof/mutex"},
}

// profiler takes the profiles while the load runs.
type profiler struct {
	wg    sync.WaitGroup
	mu    sync.Mutex
	paths []string
	errs  []error
}

// waitPprof waits until the server's profiler answers.
func waitPprof(ctx context.Context, base string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/debug/pprof/", nil)
		if err != nil {
			return fmt.Errorf("profiler: %w", err)
		}
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("profiler not answering on %s: %w", base, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// startProfiles starts taking every profile over window, saving each to
// loadbench-NAME.pprof in the working folder.
func startProfiles(ctx context.Context, base string, window time.Duration) *profiler {
	p := &profiler{}
	for _, prof := range profiles {
		file := "loadbench-" + prof.name + ".pprof"
		u := fmt.Sprintf("%s%s?seconds=%d", base, prof.path, int(window.Seconds()))
		p.wg.Go(func() {
			path, err := saveProfile(ctx, u, file, window)
			p.mu.Lock()
			defer p.mu.Unlock()
			if err != nil {
				p.errs = append(p.errs, fmt.Errorf("%s profile: %w", prof.name, err))
				return
			}
			p.paths = append(p.paths, path)
		})
	}
	return p
}

// wait waits for the profiles and returns the files written.
func (p *profiler) wait() ([]string, error) {
	p.wg.Wait()
	return p.paths, errors.Join(p.errs...)
}

func saveProfile(ctx context.Context, u, file string, window time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, window+30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return "", fmt.Errorf("%s: %s", resp.Status, b)
	}
	path, err := filepath.Abs(file)
	if err != nil {
		return "", err
	}
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return "", err
	}
	return path, f.Close()
}
