package eval

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/prompts"
)

// A model right in every other run passes half its runs: pass@1 0.5 and
// pass^4 0, the scenario failing; a reliable one passes every run.
func TestRepeatPassHatK(t *testing.T) {
	// Each run builds its model: every other model answers right, whatever
	// order the runs go in.
	var models atomic.Int64
	flaky := func(func() *prompts.Set) (bot.Model, error) {
		right := models.Add(1)%2 == 0
		return modelFunc(func(context.Context, bot.ModelRequest) (bot.ModelResponse, error) {
			if right {
				return bot.ModelResponse{Text: "Refunds take 5 business days."}, nil
			}
			return bot.ModelResponse{Text: "Refunds are quick."}, nil
		}), nil
	}
	const src = `
scenarios:
  - name: refund time
    customer: C-1001
    turns:
      - say: "how long does a refund take?"
        expect: {contains: [5 business days]}`
	scs := mustParse(t, src)
	r := Run(context.Background(), Config{OpenStore: openSQLite, NewModel: flaky, TempDir: mustScratchDir(t), Repeat: 4}, scs)
	refund := r.Results[0]
	if refund.Runs != 4 || refund.Passes != 2 || refund.Passed || r.Failed != 1 {
		t.Errorf("flaky scenario: %d of %d runs passed, passed %v; want 2 of 4, failed", refund.Passes, refund.Runs, refund.Passed)
	}
	if r.PassAt1() != 0.5 || r.PassHatK() != 0 {
		t.Errorf("pass@1 %.3f, pass^4 %.3f; want 0.500, 0.000", r.PassAt1(), r.PassHatK())
	}
	if len(refund.Failures()) == 0 {
		t.Error("the failing run's failures are not shown")
	}
	var table bytes.Buffer
	if err := r.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"pass@1 0.500", "pass^4 0.000", "flaky: refund time passed 2 of 4 runs"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
	var js bytes.Buffer
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var out struct {
		Repeat   int     `json:"repeat"`
		PassAt1  float64 `json:"pass_at_1"`
		PassHatK float64 `json:"pass_hat_k"`
	}
	if err := json.Unmarshal(js.Bytes(), &out); err != nil || out.Repeat != 4 || out.PassAt1 != 0.5 || out.PassHatK != 0 {
		t.Errorf("JSON: %+v, %v", out, err)
	}

	steady := Run(context.Background(), Config{OpenStore: openSQLite, TempDir: mustScratchDir(t), Repeat: 3}, scs)
	if res := steady.Results[0]; res.Runs != 3 || res.Passes != 3 || !res.Passed || steady.PassHatK() != 1 {
		t.Errorf("the offline model: %d of %d runs passed, pass^3 %.3f; want 3 of 3, 1", res.Passes, res.Runs, steady.PassHatK())
	}
}
