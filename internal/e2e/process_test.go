package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// server runs `firstline serve` processes one after another on the same
// database and environment, as an operator (or a crash-looping container)
// would: start, kill -9, start again, and finally stop cleanly.
type server struct {
	t   *testing.T
	dir string   // working folder: no prompts/ folder, so the embedded defaults
	env []string // the environment, nothing inherited but PATH and HOME

	mu   sync.Mutex
	logs bytes.Buffer // every run's stderr, one after another
	runs int
	cur  *process
}

// process is one run of the binary.
type process struct {
	cmd  *exec.Cmd
	addr string // the HTTP address it listens on
	done chan struct{}
	err  error // Wait's result, once done is closed
}

func newServer(t *testing.T, env ...string) *server {
	s := &server{t: t, dir: t.TempDir()}
	s.env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + s.dir, "FIRSTLINE_HTTP_ADDR=127.0.0.1:0"}, env...)
	t.Cleanup(func() {
		s.mu.Lock()
		p := s.cur
		s.mu.Unlock()
		if p != nil {
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("server logs (last 150 lines):\n%s", s.tail(150))
		}
	})
	return s
}

// start runs the binary and waits until /readyz says ready (the store is
// reachable and Slack connected).
func (s *server) start() {
	s.t.Helper()
	cmd := exec.Command(binary, "serve")
	cmd.Dir, cmd.Env = s.dir, s.env
	stderr, err := cmd.StderrPipe()
	if err != nil {
		s.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start firstline: %v", err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	s.mu.Lock()
	s.runs++
	fmt.Fprintf(&s.logs, "=== run %d (pid %d)\n", s.runs, cmd.Process.Pid)
	s.cur = p
	s.mu.Unlock()
	listening := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.logs.WriteString(line + "\n")
			s.mu.Unlock()
			var l struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "http listening" {
				listening <- l.Addr
			}
		}
		p.err = cmd.Wait()
		close(p.done)
	}()
	select {
	case p.addr = <-listening:
	case <-p.done:
		s.t.Fatalf("firstline exited at start: %v", p.err)
	case <-time.After(30 * time.Second):
		s.t.Fatal("firstline did not listen within 30s")
	}
	waitFor(s.t, 30*time.Second, "firstline to be ready", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.addr+"/readyz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// kill stops the running process with SIGKILL: no shutdown, no flush.
func (s *server) kill() {
	s.t.Helper()
	p := s.take()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		s.t.Fatalf("kill -9: %v", err)
	}
	<-p.done
}

// stop sends SIGTERM and waits for the process to exit; it returns the
// exit code and how long the shutdown took.
func (s *server) stop(within time.Duration) (int, time.Duration) {
	s.t.Helper()
	p := s.take()
	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-p.done:
	case <-time.After(within):
		_ = p.cmd.Process.Kill()
		<-p.done
		s.t.Fatalf("firstline did not exit within %v of SIGTERM", within)
	}
	return p.cmd.ProcessState.ExitCode(), time.Since(start)
}

// signalTerm sends SIGTERM and returns at once, as a supervisor does that
// kills the process if it has not exited after a grace period.
func (s *server) signalTerm() {
	s.t.Helper()
	s.mu.Lock()
	p := s.cur
	s.mu.Unlock()
	if p == nil {
		s.t.Fatal("firstline is not running")
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.t.Fatalf("SIGTERM: %v", err)
	}
}

func (s *server) take() *process {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.cur
	if p == nil {
		s.t.Fatal("firstline is not running")
	}
	s.cur = nil
	return p
}

// tail returns the last n lines of the logs.
func (s *server) tail(n int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	lines := strings.Split(strings.TrimRight(s.logs.String(), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// logCount counts the log lines, of every run, that contain text.
func (s *server) logCount(text string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, l := range strings.Split(s.logs.String(), "\n") {
		if strings.Contains(l, text) {
			n++
		}
	}
	return n
}

// waitFor polls cond until it holds, failing the test after d. It polls:
// the process under test runs on its own.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
