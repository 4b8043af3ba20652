package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/firstlinehq/firstline/internal/fakeslack"
)

// child is one `firstline serve` process.
type child struct {
	cmd      *exec.Cmd
	url      string // http://host:port of FIRSTLINE_HTTP_ADDR
	pprofURL string // http://host:port of FIRSTLINE_PPROF_ADDR, "" without
	logPath  string
	logFile  *os.File
	done     chan struct{}
	err      error // Wait's result, once done is closed
}

// serverEnv is the environment of `firstline serve`: Slack over HTTP at
// the fake, the model at the zero-latency endpoint, nothing inherited but
// PATH.
func serverEnv(dir, db, httpAddr, pprofAddr string, slack *slackSide, m *model) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dir,
		"FIRSTLINE_DB=" + db,
		"FIRSTLINE_HTTP_ADDR=" + httpAddr,
		"FIRSTLINE_LOG_LEVEL=warn",
		"SLACK_API_URL=" + slack.fake.APIURL(),
		"SLACK_BOT_TOKEN=" + fakeslack.BotToken,
		"SLACK_SIGNING_SECRET=" + fakeslack.SigningSecret,
		"SLACK_AGENT_CHANNEL=" + fakeslack.AgentChannel,
		"SLACK_AGENTS=" + agent,
		"OPENAI_BASE_URL=" + m.baseURL(),
		"OPENAI_API_KEY=sk-loadbench",
		"FIRSTLINE_MODEL=loadbench-model",
		// One workspace's thousand customers would trip the workspace's
		// default limit (600/1m): the benchmark measures the bot.
		"FIRSTLINE_RATE_PER_USER=off",
		"FIRSTLINE_RATE_PER_WORKSPACE=off",
	}
	if pprofAddr != "" {
		env = append(env, "FIRSTLINE_PPROF_ADDR="+pprofAddr)
	}
	return env
}

// freeAddr returns a loopback address with a port nobody listens on now.
// The server's log is at warn, so it does not say which port :0 got.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	return addr, nil
}

// startChild runs `bin serve` in dir with env (whose FIRSTLINE_HTTP_ADDR
// is httpAddr), its log in dir/server.log, and waits until /readyz says the
// store and Slack are ready.
func startChild(ctx context.Context, bin, dir string, env []string, httpAddr, pprofAddr string) (*child, error) {
	c := &child{url: "http://" + httpAddr, logPath: filepath.Join(dir, "server.log"), done: make(chan struct{})}
	if pprofAddr != "" {
		c.pprofURL = "http://" + pprofAddr
	}
	var err error
	if c.logFile, err = os.Create(c.logPath); err != nil {
		return nil, fmt.Errorf("start firstline: %w", err)
	}
	c.cmd = exec.Command(bin, "serve")
	c.cmd.Dir, c.cmd.Env = dir, env // no prompts/ folder in dir: the embedded prompts
	c.cmd.Stdout, c.cmd.Stderr = c.logFile, c.logFile
	if err := c.cmd.Start(); err != nil {
		c.logFile.Close()
		return nil, fmt.Errorf("start firstline: %w", err)
	}
	go func() {
		c.err = c.cmd.Wait()
		close(c.done)
	}()
	if err := c.waitReady(ctx, 30*time.Second); err != nil {
		c.stop()
		return nil, fmt.Errorf("%w\n%s", err, c.logTail(20))
	}
	return c, nil
}

// waitReady polls /readyz until it answers 200, the process exits, or
// within passes.
func (c *child) waitReady(ctx context.Context, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if c.ready(ctx) {
			return nil
		}
		select {
		case <-c.done:
			return fmt.Errorf("firstline serve exited at start: %v", c.err)
		case <-ctx.Done():
			return fmt.Errorf("firstline serve not ready on %s/readyz: %w", c.url, ctx.Err())
		case <-tick.C:
		}
	}
}

func (c *child) ready(ctx context.Context) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url+"/readyz", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// memory is what /proc/PID/status says of a process's memory, in bytes.
type memory struct{ rss, peak int64 }

// memory reads VmRSS and VmHWM (the peak RSS) of the process.
func (c *child) memory() (memory, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	if err != nil {
		return memory{}, fmt.Errorf("read the server's RSS: %w", err)
	}
	var m memory
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			return memory{}, fmt.Errorf("read the server's RSS: %s: %w", name, err)
		}
		if name == "VmRSS" {
			m.rss = kb << 10
		} else {
			m.peak = kb << 10
		}
	}
	if m.rss == 0 {
		return memory{}, errors.New("read the server's RSS: no VmRSS in /proc/PID/status")
	}
	return m, nil
}

// stop sends SIGTERM and waits for the orderly shutdown, killing the
// process after 30s. A non-zero exit is an error.
func (c *child) stop() error {
	defer c.logFile.Close()
	select {
	case <-c.done:
		return c.exitErr()
	default:
	}
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("stop firstline: %w", err)
	}
	select {
	case <-c.done:
		return c.exitErr()
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
		return errors.New("stop firstline: not stopped 30s after SIGTERM; killed")
	}
}

func (c *child) exitErr() error {
	if c.err != nil {
		return fmt.Errorf("firstline serve: %w", c.err)
	}
	return nil
}

// logTail is the last n lines of the server's log.
func (c *child) logTail(n int) string {
	b, err := os.ReadFile(c.logPath)
	if err != nil {
		return "(no server log: " + err.Error() + ")"
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return "(the server logged nothing at warn or above)"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return "server log (last lines):\n" + strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// logLines counts the server's log lines (warnings and errors only, at
// FIRSTLINE_LOG_LEVEL=warn).
func (c *child) logLines() int {
	b, err := os.ReadFile(c.logPath)
	if err != nil || len(b) == 0 {
		return 0
	}
	return bytes.Count(b, []byte("\n"))
}
