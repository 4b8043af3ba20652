package stats

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// Summary is the report of a period and its topics: what `firstline stats`
// prints, as a table or as JSON.
type Summary struct {
	report   Report
	topics   []TopicCount
	versions []VersionCount
}

// Summarize reads the records of the period ending at now and computes
// its figures; idle closes conversations left open (FIRSTLINE_IDLE_TIMEOUT).
func Summarize(ctx context.Context, r Records, now time.Time, period, idle time.Duration) (Summary, error) {
	since := now.Add(-period)
	history, err := Read(ctx, r, since)
	if err != nil {
		return Summary{}, err
	}
	return Summary{
		report:   Compute(history, since, now, idle),
		topics:   Topics(history, since, now),
		versions: Versions(history, since, now),
	}, nil
}

// WriteTable writes the figures as a table a support lead reads.
func (s Summary) WriteTable(w io.Writer, period string) error {
	r := s.report
	fmt.Fprintf(w, "Support figures for the last %s: %s to %s UTC\n\n", period,
		r.Since.UTC().Format("2006-01-02 15:04"), r.Until.UTC().Format("2006-01-02 15:04"))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "conversations\t%d\t%d closed (ended, or idle for FIRSTLINE_IDLE_TIMEOUT)\n", r.Conversations, r.Closed)
	fmt.Fprintf(tw, "automation rate\t%s\t%d of %d closed conversations had no handoff\n", pct(r.AutomationRate, r.Closed), r.Automated, r.Closed)
	fmt.Fprintf(tw, "handoff rate\t%s\tof the conversations had a handoff (%s in all)\n", pct(r.HandoffRate, r.Conversations), plural(r.Handoffs, "handoff", "handoffs"))
	fmt.Fprintf(tw, "first response\t%s\tmedian; p90 %s\n", FormatDuration(r.FirstResponseP50), FormatDuration(r.FirstResponseP90))
	fmt.Fprintf(tw, "time to claim\t%s\tmedian, from handoff to an agent's claim\n", FormatDuration(r.TimeToClaimP50))
	fmt.Fprintf(tw, "resolution time\t%s\tmedian, from handoff to resolved\n", FormatDuration(r.ResolutionP50))
	csat := "–"
	if r.CSATCount > 0 {
		csat = fmt.Sprintf("%.2f / 5", r.CSATAverage)
	}
	fmt.Fprintf(tw, "satisfaction (CSAT)\t%s\tfrom %s after handoffs\n", csat, plural(r.CSATCount, "rating", "ratings"))
	fmt.Fprintf(tw, "repeat inquiries\t%s\t%s repeating one on the same topic within 7 days\n", pct(r.RepeatRate, r.Conversations), plural(r.Repeats, "conversation", "conversations"))
	tokens := "–"
	if r.Closed > 0 {
		tokens = fmt.Sprintf("%.0f", r.TokensPerConversation)
	}
	fmt.Fprintf(tw, "model tokens\t%s\tper closed conversation (%d prompt + %d completion)\n",
		tokens, r.PromptTokens, r.CompletionTokens)
	votes := r.Helpful + r.NotHelpful
	fmt.Fprintf(tw, "answers rated helpful\t%s\t%d 👍, %d 👎 on the bot's answers\n", pct(r.HelpfulRate, votes), r.Helpful, r.NotHelpful)
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(s.topics) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "TOPIC\tCONVERSATIONS\tHANDED OFF\tREPEATS\t👍\t👎")
		for _, t := range s.topics {
			topic := t.Topic
			if topic == "" {
				topic = "(not labelled yet)"
			}
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\n", topic, t.Conversations, t.HandedOff, t.Repeats, t.Helpful, t.NotHelpful)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(s.versions) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROMPT VERSION\t👍\t👎\tHELPFUL")
	for _, v := range s.versions {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", v.PromptVersion, v.Helpful, v.NotHelpful,
			pct(ratio(v.Helpful, v.Helpful+v.NotHelpful), v.Helpful+v.NotHelpful))
	}
	return tw.Flush()
}

// SummaryJSON is `firstline stats --json`. Durations are seconds, null when
// the period has no sample; rates are fractions from 0 to 1, null when
// there is nothing to divide by.
type SummaryJSON struct {
	Period                      string        `json:"period"`
	Since                       time.Time     `json:"since"`
	Until                       time.Time     `json:"until"`
	Conversations               int           `json:"conversations"`
	Closed                      int           `json:"closed"`
	Automated                   int           `json:"automated"`
	AutomationRate              *float64      `json:"automation_rate"`
	HandoffRate                 *float64      `json:"handoff_rate"`
	Handoffs                    int           `json:"handoffs"`
	FirstResponseP50            *float64      `json:"first_response_p50_seconds"`
	FirstResponseP90            *float64      `json:"first_response_p90_seconds"`
	TimeToClaimP50              *float64      `json:"time_to_claim_p50_seconds"`
	ResolutionP50               *float64      `json:"resolution_p50_seconds"`
	CSATAverage                 *float64      `json:"csat_average"`
	CSATCount                   int           `json:"csat_count"`
	Repeats                     int           `json:"repeats"`
	RepeatRate                  *float64      `json:"repeat_rate"`
	PromptTokens                int           `json:"prompt_tokens"`
	CompletionTokens            int           `json:"completion_tokens"`
	TokensPerClosedConversation *float64      `json:"tokens_per_closed_conversation"`
	Helpful                     int           `json:"helpful"`
	NotHelpful                  int           `json:"not_helpful"`
	HelpfulRate                 *float64      `json:"helpful_rate"`
	Topics                      []TopicJSON   `json:"topics"`
	PromptVersions              []VersionJSON `json:"prompt_versions"`
	Days                        []DayJSON     `json:"days"`
}

// VersionJSON is one prompt version of SummaryJSON.
type VersionJSON struct {
	PromptVersion string `json:"prompt_version"`
	Helpful       int    `json:"helpful"`
	NotHelpful    int    `json:"not_helpful"`
}

// TopicJSON is one topic of SummaryJSON.
type TopicJSON struct {
	Topic         string `json:"topic"`
	Conversations int    `json:"conversations"`
	HandedOff     int    `json:"handed_off"`
	Repeats       int    `json:"repeats"`
	Helpful       int    `json:"helpful"`
	NotHelpful    int    `json:"not_helpful"`
}

// DayJSON is one day of SummaryJSON.
type DayJSON struct {
	Date          string `json:"date"`
	Conversations int    `json:"conversations"`
	Automated     int    `json:"automated"`
	Handoffs      int    `json:"handoffs"`
}

func (s Summary) JSON(period string) SummaryJSON {
	r := s.report
	out := SummaryJSON{
		Period: period, Since: r.Since.UTC(), Until: r.Until.UTC(),
		Conversations: r.Conversations, Closed: r.Closed, Automated: r.Automated,
		AutomationRate: rate(r.AutomationRate, r.Closed), HandoffRate: rate(r.HandoffRate, r.Conversations), Handoffs: r.Handoffs,
		FirstResponseP50: seconds(r.FirstResponseP50), FirstResponseP90: seconds(r.FirstResponseP90),
		TimeToClaimP50: seconds(r.TimeToClaimP50), ResolutionP50: seconds(r.ResolutionP50),
		CSATCount: r.CSATCount, Repeats: r.Repeats, RepeatRate: rate(r.RepeatRate, r.Conversations),
		PromptTokens: r.PromptTokens, CompletionTokens: r.CompletionTokens,
		TokensPerClosedConversation: rate(r.TokensPerConversation, r.Closed),
		Helpful:                     r.Helpful, NotHelpful: r.NotHelpful, HelpfulRate: rate(r.HelpfulRate, r.Helpful+r.NotHelpful),
		Topics:         []TopicJSON{},
		PromptVersions: []VersionJSON{},
		Days:           []DayJSON{},
	}
	for _, v := range s.versions {
		out.PromptVersions = append(out.PromptVersions, VersionJSON(v))
	}
	if r.CSATCount > 0 {
		avg := r.CSATAverage
		out.CSATAverage = &avg
	}
	for _, t := range s.topics {
		out.Topics = append(out.Topics, TopicJSON(t))
	}
	for _, d := range r.Days {
		out.Days = append(out.Days, DayJSON{Date: d.Date.Format(time.DateOnly), Conversations: d.Conversations, Automated: d.Automated, Handoffs: d.Handoffs})
	}
	return out
}

// seconds is a duration for JSON: null for none (the report's zero).
func seconds(d time.Duration) *float64 {
	if d <= 0 {
		return nil
	}
	s := d.Seconds()
	return &s
}

// pct prints a rate, "–" when its denominator n is zero.
func pct(f float64, n int) string {
	if n == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f%%", f*100)
}

// rate is a ratio for JSON: null when its denominator n is zero.
func rate(f float64, n int) *float64 {
	if n == 0 {
		return nil
	}
	return &f
}

// FormatDuration prints a duration as a support lead reads it: "–" for no
// sample, then seconds, minutes, hours or days with one unit below.
func FormatDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "–"
	case d < time.Second:
		return fmt.Sprintf("%dms", max(d.Round(time.Millisecond).Milliseconds(), 1))
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Hour:
		d = d.Round(time.Second)
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		d = d.Round(time.Minute)
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	default:
		d = d.Round(time.Hour)
		return fmt.Sprintf("%dd%02dh", int(d.Hours())/24, int(d.Hours())%24)
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
