package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The import rules of the layout (README.md, "Layout"): dependencies point
// inward. The domain (bot/ and handoff/) imports no adapter, no SQL driver
// and no platform SDK; the engine does not import the handoff flow that
// builds on it (only bot/app, which assembles both, and the eval runner
// do); an adapter imports no other adapter; the prompt files' loader
// imports nothing of the project; nothing imports the root package. They are checked on what the packages import to build, through
// every hop (go list -deps), not on their tests: tests may wire adapters.

const module = "github.com/firstlinehq/firstline"

// outside are imports that speak to something outside the process: only
// adapters may have them.
var outside = []string{
	"database/sql",
	"github.com/mattn/go-sqlite3",
	"github.com/jackc/pgx",
	"github.com/slack-go/slack",
	"github.com/bwmarrin/discordgo",
	"github.com/gorilla/websocket",
	"github.com/sashabaranov/go-openai",
	"github.com/modelcontextprotocol/go-sdk",
}

// promptLeaves are the packages the prompts package may import: they parse
// files of the prompt folder and import nothing of the project but each
// other.
var promptLeaves = []string{"bot/datatools", "bot/fileerr", "bot/knowledge", "bot/mask"}

// listedPackage is what go list -json says of a package.
type listedPackage struct {
	ImportPath string
	Deps       []string
}

// importViolations returns the broken rules, one line each.
func importViolations(pkgs []listedPackage) []string {
	var out []string
	for _, p := range pkgs {
		rel, ok := strings.CutPrefix(p.ImportPath, module+"/")
		if !ok {
			rel = "" // the root package
		}
		for _, dep := range p.Deps {
			depRel, project := strings.CutPrefix(dep, module+"/")
			if dep == module {
				out = append(out, p.ImportPath+" imports the root package")
				continue
			}
			if slices.Contains(promptLeaves, rel) && project && !slices.Contains(promptLeaves, depRel) {
				out = append(out, p.ImportPath+" (read by the prompt files) imports "+dep)
			}
			switch {
			case under(rel, "bot") || under(rel, "handoff"):
				// The handoff flow builds on the engine's types; of the
				// domain, only what assembles both (bot/app) and the eval
				// runner that drives agents' turns use it in return.
				if project && under(rel, "bot") && under(depRel, "handoff") && !under(rel, "bot/app") && !under(rel, "bot/eval") {
					out = append(out, p.ImportPath+" imports the handoff flow, which builds on it")
				}
				if project && under(depRel, "adapters") {
					out = append(out, p.ImportPath+" (the domain) imports the adapter "+dep)
				}
				if !project && slices.ContainsFunc(outside, func(o string) bool { return under(dep, o) }) {
					out = append(out, p.ImportPath+" (the domain) imports "+dep+", which only adapters may")
				}
			case under(rel, "prompts"):
				// The prompt folder's files are checked by the leaf packages
				// that read them (tools.yaml, the knowledge folder); those
				// import nothing of the domain.
				if project && !under(depRel, "prompts") && !slices.Contains(promptLeaves, depRel) {
					out = append(out, p.ImportPath+" (the prompt files) imports "+dep)
				}
			case under(rel, "adapters"):
				if project && under(depRel, "adapters") && adapterOf(depRel) != adapterOf(rel) {
					out = append(out, p.ImportPath+" (an adapter) imports another adapter, "+dep)
				}
			}
		}
	}
	return out
}

// under reports whether path is dir or inside it.
func under(path, dir string) bool { return path == dir || strings.HasPrefix(path, dir+"/") }

// adapterOf names the adapter a path under adapters/ belongs to.
func adapterOf(rel string) string {
	parts := strings.SplitN(rel, "/", 3)
	if len(parts) < 2 {
		return rel
	}
	return parts[1]
}

func TestImportRules(t *testing.T) {
	cmd := exec.Command("go", "list", "-json=ImportPath,Deps", "./...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []listedPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 20 {
		t.Fatalf("go list found %d packages; the check would prove nothing", len(pkgs))
	}
	for _, v := range importViolations(pkgs) {
		t.Error(v)
	}
}

// TestImportViolations: each rule is seen when broken, so that
// TestImportRules can fail.
func TestImportViolations(t *testing.T) {
	tests := []struct {
		name string
		pkg  listedPackage
		want string
	}{
		{"domain imports an adapter", listedPackage{module + "/bot", []string{module + "/adapters/sqlstore"}}, "imports the adapter"},
		{"handoff imports an adapter", listedPackage{module + "/handoff", []string{module + "/adapters/slack"}}, "imports the adapter"},
		{"domain sub-package imports a SQL driver", listedPackage{module + "/bot/stats", []string{"github.com/mattn/go-sqlite3"}}, "only adapters may"},
		{"domain imports database/sql", listedPackage{module + "/bot/app", []string{"database/sql"}}, "only adapters may"},
		{"domain imports a platform SDK", listedPackage{module + "/handoff", []string{"github.com/slack-go/slack/slackevents"}}, "only adapters may"},
		{"the engine imports the handoff flow", listedPackage{module + "/bot", []string{module + "/handoff"}}, "builds on it"},
		{"adapter imports another adapter", listedPackage{module + "/adapters/slack", []string{module + "/adapters/discord"}}, "another adapter"},
		{"prompts imports the domain", listedPackage{module + "/prompts", []string{module + "/bot"}}, "(the prompt files)"},
		{"anything imports the root", listedPackage{module + "/internal/testkit", []string{module}}, "the root package"},
		{"a prompt file's parser imports the domain", listedPackage{module + "/bot/datatools", []string{module + "/bot"}}, "(read by the prompt files)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := importViolations([]listedPackage{tt.pkg})
			if len(got) != 1 || !strings.Contains(got[0], tt.want) {
				t.Errorf("violations = %q, want one that says %q", got, tt.want)
			}
		})
	}
	allowed := []listedPackage{
		{module + "/adapters/sqlstore", []string{module + "/adapters/sqlstore/storetest", module + "/bot", "database/sql", "github.com/jackc/pgx/v5"}},
		{module + "/adapters/slack", []string{module + "/bot", module + "/handoff", module + "/bot/outbox", "github.com/slack-go/slack"}},
		{module + "/bot/app", []string{module + "/bot", module + "/handoff", module + "/prompts"}},
		{module + "/prompts", []string{module + "/bot/datatools", module + "/bot/mask", module + "/bot/knowledge"}},
		{module, []string{module + "/adapters/slack", module + "/bot"}},
	}
	if got := importViolations(allowed); len(got) != 0 {
		t.Errorf("violations of allowed imports: %q", got)
	}
}
