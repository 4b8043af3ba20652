package prompts

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
)

// WatchConfig configures a Watcher.
type WatchConfig struct {
	// Dir is the prompt folder. Files missing from it keep their embedded
	// default, as with Load.
	Dir string
	// Check is an extra validation run on every candidate set (the engine
	// passes a check that the phrase file builds its matcher); an error
	// rejects the set. Optional.
	Check func(*Set) error
	// Logger receives rejected changes (one record per file:line error) and
	// changes of watch mode. Default: discard.
	Logger *slog.Logger
	// Poll is the interval at which the folder is re-read when fsnotify
	// cannot watch it (no inotify instances left, the folder was removed).
	// Default 2s.
	Poll time.Duration
	// Debounce is how long the folder must be quiet after a change before it
	// is re-read: editors write a file in several steps (truncate, write,
	// rename), and a change often touches several files. Default 200ms.
	Debounce time.Duration
	// OnReload is called after a new valid set went live (metrics, logs).
	// It runs on the goroutine that called Reload and must not call Reload.
	OnReload func(s *Set)
	// OnReject is called when a changed folder is invalid, or was removed
	// (metrics); the old set stays live. It runs like OnReload.
	OnReject func(err error)
}

// Defaults of WatchConfig, and the interval at which a watched folder is
// re-read anyway, in case the file system drops events (network file
// systems do not report changes made on other machines).
const (
	defaultPoll     = 2 * time.Second
	defaultDebounce = 200 * time.Millisecond
	defaultResync   = time.Minute
)

// ErrFolderMissing is returned by Reload (and passed to OnReject) when the
// prompt folder no longer exists; the last good set stays live.
var ErrFolderMissing = errors.New("prompt folder is missing")

// Watcher keeps the prompt set of a folder live: it re-reads the folder when
// it changes and swaps in the new set when it is valid. An invalid change is
// logged with every file:line and rejected, and the last good set stays
// live, so an admin's typo never takes the bot down.
//
// It watches the folder rather than the files, since editors (and
// Kubernetes ConfigMap updates) replace files by renaming a new one over
// them, and falls back to polling when the folder cannot be watched.
// Changes are detected by content (the Version hash), so events that do
// not change a file, and polling, cost one read of the folder.
type Watcher struct {
	cfg    WatchConfig
	log    *slog.Logger
	fsys   fs.FS
	resync time.Duration

	cur atomic.Pointer[Set]

	mu      sync.Mutex // serializes Reload; guards the fields below
	seen    string     // what the folder held at the last Reload: a Version, or a reason it could not be read
	seenErr error      // Reload's outcome for seen

	// notify creates the file-system watcher of dir; tests replace it to
	// force the polling fallback.
	notify func(dir string) (*fsnotify.Watcher, error)
}

// NewWatcher loads cfg.Dir once and returns a watcher holding it. A folder
// that is missing or invalid at start is an error (fail fast: better than
// running with prompts nobody checked); for an invalid one it is an Errors
// listing every problem with file:line. Call Run to follow changes.
func NewWatcher(cfg WatchConfig) (*Watcher, error) {
	if cfg.Dir == "" {
		return nil, errors.New("prompts: watch: no folder")
	}
	if cfg.Poll <= 0 {
		cfg.Poll = defaultPoll
	}
	if cfg.Debounce <= 0 {
		cfg.Debounce = defaultDebounce
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	w := &Watcher{
		cfg:    cfg,
		log:    log.With("dir", cfg.Dir),
		fsys:   os.DirFS(cfg.Dir),
		resync: defaultResync,
		notify: watchDir,
	}
	if err := w.statDir(); err != nil {
		return nil, err
	}
	contents, sources, err := readAll(w.fsys)
	if err != nil {
		return nil, err
	}
	set, err := w.build(contents, sources)
	if err != nil {
		return nil, err
	}
	w.cur.Store(set)
	w.seen = set.Version
	return w, nil
}

// Current returns the live set. It does not block and is safe for
// concurrent use; callers should take it once per unit of work (a turn), so
// that a reload in the middle does not mix two versions.
func (w *Watcher) Current() *Set { return w.cur.Load() }

// Reload re-reads the folder now. Content identical to what the last Reload
// read does nothing and returns that Reload's result again; a valid change
// goes live (OnReload); an invalid change, or a missing folder, is logged
// and rejected (OnReject), and the last good set stays live. The error says
// why the folder on disk is not live: nil when it is.
//
// Run calls Reload on every change; tests call it to avoid timing.
func (w *Watcher) Reload() error {
	w.mu.Lock()
	defer w.mu.Unlock()

	contents, sources, err := w.read()
	if err != nil {
		key := "error: " + err.Error() // as peek says it
		if key == w.seen {
			return w.seenErr
		}
		w.seen = key
		return w.reject(err)
	}
	v := version(contents)
	if v == w.seen {
		return w.seenErr
	}
	w.seen = v
	live := w.cur.Load()
	if v == live.Version {
		// Back to what is live (an invalid edit was undone): nothing to swap.
		if w.seenErr != nil {
			w.log.Info("prompt folder is valid again; the live version is unchanged", "version", v)
		}
		w.seenErr = nil
		return nil
	}
	set, err := w.build(contents, sources)
	if err != nil {
		return w.reject(err)
	}
	w.cur.Store(set)
	w.seenErr = nil
	w.log.Debug("prompt files changed; new version live", "version", set.Version, "previous", live.Version)
	if w.cfg.OnReload != nil {
		w.cfg.OnReload(set)
	}
	return nil
}

// read reads the folder's files, or says why it cannot.
func (w *Watcher) read() (map[string][]byte, map[string]string, error) {
	if err := w.statDir(); err != nil {
		return nil, nil, err
	}
	contents, sources, err := readAll(w.fsys)
	if err != nil {
		return nil, nil, err
	}
	// A folder removed while it was read would read as "every file is
	// missing", that is as the embedded defaults: check it is still there.
	if err := w.statDir(); err != nil {
		return nil, nil, err
	}
	return contents, sources, nil
}

// peek returns what the folder holds, as Reload compares it: the Version of
// its files, or why they cannot be read.
func (w *Watcher) peek() string {
	contents, _, err := w.read()
	if err != nil {
		return "error: " + err.Error()
	}
	return version(contents)
}

func (w *Watcher) statDir() error {
	info, err := os.Stat(w.cfg.Dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("prompts: %s: %w", w.cfg.Dir, ErrFolderMissing)
	case err != nil:
		return fmt.Errorf("prompts: %w", err)
	case !info.IsDir():
		return fmt.Errorf("prompts: %s is not a folder", w.cfg.Dir)
	}
	return nil
}

// build validates a candidate set, including the configured Check.
func (w *Watcher) build(contents map[string][]byte, sources map[string]string) (*Set, error) {
	set, err := build(contents, sources)
	if err != nil {
		return nil, err
	}
	if w.cfg.Check != nil {
		if err := w.cfg.Check(set); err != nil {
			return nil, err
		}
	}
	return set, nil
}

// reject logs a change that cannot go live and reports it. Called with mu
// held.
func (w *Watcher) reject(err error) error {
	w.seenErr = err
	live := w.cur.Load().Version
	var errs Errors
	switch {
	case errors.Is(err, ErrFolderMissing):
		w.log.Warn("prompt folder is missing; the last good version stays live", "version", live)
	case errors.As(err, &errs):
		w.log.Warn("prompt files rejected; the last good version stays live", "version", live, "errors", len(errs))
		for _, e := range errs {
			w.log.Warn("prompt file error", "file", e.File, "line", e.Line, "error", e.Error())
		}
	default:
		w.log.Warn("prompt files rejected; the last good version stays live", "version", live, "error", err.Error())
	}
	if w.cfg.OnReject != nil {
		w.cfg.OnReject(err)
	}
	return err
}

// Run follows the folder until ctx is done, then returns nil. It watches
// the folder with fsnotify, re-reading it once a burst of changes has been
// quiet for Debounce; when the folder cannot be watched (the watcher cannot
// be created, fails, or the folder is removed) it polls every Poll and tries
// to watch again at each tick. Errors in the files are Reload's business:
// they are logged and do not stop Run.
func (w *Watcher) Run(ctx context.Context) error {
	polling := false
	var polled string // what the previous poll read
	for ctx.Err() == nil {
		fw, err := w.notify(w.cfg.Dir)
		if err != nil {
			if !polling {
				w.log.Warn("cannot watch the prompt folder; polling it instead", "interval", w.cfg.Poll, "error", err.Error())
				polling = true
			}
			if !sleep(ctx, w.cfg.Poll) {
				break
			}
			// A poll may read a file its editor is still writing: act on
			// what two polls in a row read the same.
			if now := w.peek(); now == polled {
				_ = w.Reload() // errors are logged by Reload
			} else {
				polled = now
			}
			continue
		}
		polled = ""
		if polling {
			w.log.Info("watching the prompt folder again")
			polling = false
		}
		_ = w.Reload() // catch up on changes made while not watching
		err = w.watch(ctx, fw)
		fw.Close()
		if err != nil {
			w.log.Warn("prompt folder watch stopped; polling it instead", "interval", w.cfg.Poll, "error", err.Error())
			polling = true
		}
	}
	return nil
}

// watch follows fw until ctx is done (nil) or the watch stops working.
func (w *Watcher) watch(ctx context.Context, fw *fsnotify.Watcher) error {
	dir := filepath.Clean(w.cfg.Dir)
	debounce := time.NewTimer(w.cfg.Debounce)
	debounce.Stop()
	defer debounce.Stop()
	resync := time.NewTicker(w.resync)
	defer resync.Stop()
	// A burst that never goes quiet (a file rewritten in a loop) is still
	// read at least every maxWait.
	maxWait := 10 * w.cfg.Debounce
	var pending bool
	var since time.Time
	changed := func() {
		switch {
		case !pending:
			pending, since = true, time.Now()
			debounce.Reset(w.cfg.Debounce)
		case time.Since(since) < maxWait:
			debounce.Reset(w.cfg.Debounce)
		}
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-fw.Events:
			if !ok {
				return errors.New("fsnotify: events closed")
			}
			if filepath.Clean(ev.Name) == dir && ev.Has(fsnotify.Remove|fsnotify.Rename) {
				// The watch went with the folder. Reload logs a missing
				// folder and keeps the last good set; polling notices when
				// a folder is back at this path.
				_ = w.Reload()
				return fmt.Errorf("folder %s: %s", dir, ev.Op)
			}
			if ev.Has(fsnotify.Create) {
				// A new folder of the help center (or the help center
				// itself) is watched from now on.
				if info, err := os.Stat(ev.Name); err == nil && info.IsDir() {
					addTree(fw, ev.Name)
				}
			}
			changed()
		case err, ok := <-fw.Errors:
			if !ok {
				return errors.New("fsnotify: errors closed")
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				changed() // events were lost: re-read to be sure
				continue
			}
			return err
		case <-debounce.C:
			pending = false
			_ = w.Reload() // errors are logged by Reload
		case <-resync.C:
			if !pending {
				_ = w.Reload()
			}
		}
	}
}

// watchDir returns an fsnotify watcher of dir, and of every folder of its
// help center (fsnotify watches one folder, not its sub-folders).
func watchDir(dir string) (*fsnotify.Watcher, error) {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	if err := fw.Add(dir); err != nil {
		fw.Close()
		return nil, err
	}
	addTree(fw, filepath.Join(dir, FolderKnowledge))
	return fw, nil
}

// addTree adds root and the folders under it to fw, as far as it can: a
// folder it cannot watch is still re-read at the next resync.
func addTree(fw *fsnotify.Watcher, root string) {
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = fw.Add(p)
		}
		return nil
	})
}

// sleep waits for d, and reports false when ctx is done first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
