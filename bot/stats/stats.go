// Package stats computes the support figures of `firstline stats` and the
// KPI page from conversation records: automation and handoff rates,
// first-response, claim and resolution times, satisfaction, repeat
// inquiries and model tokens. It is pure computation over what the store
// returns, so the figures can be checked against hand-computed data.
package stats

import (
	"math"
	"slices"
	"strings"
	"time"
)

// The topics of the help center, as the engine labels them
// (bot.TopicHelpPrefix, bot.TopicHelpNone).
const (
	topicHelpPrefix = "help:"
	topicHelpNone   = "help:none"
)

// RepeatWindow is how soon a new conversation by the same customer on the
// same topic counts as a repeat inquiry (Klarna's published measure).
const RepeatWindow = 7 * 24 * time.Hour

// Conversation is one conversation as the figures need it.
type Conversation struct {
	ID int64
	// Customer identifies who opened it across conversations: the linked
	// customer id, else the chat identity.
	Customer string
	Platform string
	// Topic labels what it was about ("payments", "faq:refund-time",
	// "other"); "" when unknown.
	Topic         string
	OpenedAt      time.Time
	LastMessageAt time.Time
	ClosedAt      time.Time // zero while open
	// FirstCustomerAt is the first customer message; FirstResponseAt the
	// first answer to it by the bot or an agent (zero when none).
	FirstCustomerAt  time.Time
	FirstResponseAt  time.Time
	Handoffs         []Handoff
	PromptTokens     int
	CompletionTokens int
	// Votes are the customer's feedback on the bot's answers.
	Votes []Vote
}

// Vote is a customer's 👍 or 👎 on one answer of the bot.
type Vote struct {
	// PromptVersion is the version of the prompt files the answer was
	// made with.
	PromptVersion string
	Helpful       bool
}

// Handoff is one handoff of a conversation.
type Handoff struct {
	CreatedAt  time.Time
	ClaimedAt  time.Time // zero when never claimed
	ResolvedAt time.Time // zero while open
	Rating     int       // 1–5, 0 when not rated
}

// Report is the figures over a period.
type Report struct {
	Since, Until time.Time
	// Conversations opened in the period; Closed of them ended (closed, or
	// idle past the timeout) by Until.
	Conversations int
	Closed        int
	// Automated closed conversations had no handoff.
	Automated      int
	AutomationRate float64 // Automated / Closed
	HandoffRate    float64 // conversations with a handoff / Conversations
	Handoffs       int
	// Durations; zero when there is no sample.
	FirstResponseP50 time.Duration
	FirstResponseP90 time.Duration
	TimeToClaimP50   time.Duration
	ResolutionP50    time.Duration
	// Customer satisfaction after handoffs.
	CSATAverage float64
	CSATCount   int
	// Repeats are conversations whose customer had one on the same topic
	// within RepeatWindow before.
	Repeats    int
	RepeatRate float64
	// Model tokens, in total and per closed conversation.
	PromptTokens          int
	CompletionTokens      int
	TokensPerConversation float64
	// The help center: how many conversations each article answered
	// (topic help:<article>, most first) and how many found nothing there
	// (help:none, the content gaps).
	HelpArticles []TopicCount
	HelpGaps     int
	// Feedback on the bot's answers: votes in conversations opened in the
	// period.
	Helpful     int
	NotHelpful  int
	HelpfulRate float64 // Helpful / (Helpful + NotHelpful)
	// Days is the daily series for charts, oldest first.
	Days []Day
}

// Day is one day of the daily series.
type Day struct {
	Date          time.Time // midnight UTC
	Conversations int
	Automated     int
	Handoffs      int
}

// Compute returns the figures for conversations opened in [since, until).
// history may hold earlier conversations too: they count as the first of a
// repeat, not in the figures. A conversation still open whose last message
// is older than idle counts as closed.
func Compute(history []Conversation, since, until time.Time, idle time.Duration) Report {
	r := Report{Since: since, Until: until}
	var firstResp, toClaim, resolution []time.Duration
	var ratingSum int
	days := map[time.Time]*Day{}
	rep := newRepeats(history)
	for _, c := range history {
		if c.OpenedAt.Before(since) || !c.OpenedAt.Before(until) {
			continue
		}
		r.Conversations++
		day := dayOf(days, c.OpenedAt)
		day.Conversations++
		closed := !c.ClosedAt.IsZero() && !c.ClosedAt.After(until) ||
			c.ClosedAt.IsZero() && until.Sub(c.LastMessageAt) > idle
		if len(c.Handoffs) > 0 {
			r.Handoffs += len(c.Handoffs)
			day.Handoffs += len(c.Handoffs)
		}
		if closed {
			r.Closed++
			r.PromptTokens += c.PromptTokens
			r.CompletionTokens += c.CompletionTokens
			if len(c.Handoffs) == 0 {
				r.Automated++
				day.Automated++
			}
		}
		if !c.FirstCustomerAt.IsZero() && !c.FirstResponseAt.IsZero() && !c.FirstResponseAt.Before(c.FirstCustomerAt) {
			firstResp = append(firstResp, c.FirstResponseAt.Sub(c.FirstCustomerAt))
		}
		for _, h := range c.Handoffs {
			if !h.ClaimedAt.IsZero() {
				toClaim = append(toClaim, h.ClaimedAt.Sub(h.CreatedAt))
			}
			if !h.ResolvedAt.IsZero() {
				resolution = append(resolution, h.ResolvedAt.Sub(h.CreatedAt))
			}
			if h.Rating >= 1 && h.Rating <= 5 {
				r.CSATCount++
				ratingSum += h.Rating
			}
		}
		if rep.of(c) {
			r.Repeats++
		}
		for _, v := range c.Votes {
			if v.Helpful {
				r.Helpful++
			} else {
				r.NotHelpful++
			}
		}
	}
	withHandoff := 0
	for _, c := range history {
		if !c.OpenedAt.Before(since) && c.OpenedAt.Before(until) && len(c.Handoffs) > 0 {
			withHandoff++
		}
	}
	r.AutomationRate = ratio(r.Automated, r.Closed)
	r.HandoffRate = ratio(withHandoff, r.Conversations)
	r.RepeatRate = ratio(r.Repeats, r.Conversations)
	r.TokensPerConversation = ratio(r.PromptTokens+r.CompletionTokens, r.Closed)
	r.HelpfulRate = ratio(r.Helpful, r.Helpful+r.NotHelpful)
	for _, tc := range Topics(history, since, until) {
		switch {
		case tc.Topic == topicHelpNone:
			r.HelpGaps = tc.Conversations
		case strings.HasPrefix(tc.Topic, topicHelpPrefix):
			r.HelpArticles = append(r.HelpArticles, tc)
		}
	}
	if r.CSATCount > 0 {
		r.CSATAverage = float64(ratingSum) / float64(r.CSATCount)
	}
	r.FirstResponseP50 = percentile(firstResp, 50)
	r.FirstResponseP90 = percentile(firstResp, 90)
	r.TimeToClaimP50 = percentile(toClaim, 50)
	r.ResolutionP50 = percentile(resolution, 50)
	r.Days = series(days, since, until)
	return r
}

func ratio(n, d int) float64 {
	if d == 0 {
		return 0
	}
	return float64(n) / float64(d)
}

// percentile is the nearest-rank percentile p (0–100) of ds; zero for none.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[min(max(rank, 1), len(s))-1]
}

func dayOf(days map[time.Time]*Day, t time.Time) *Day {
	d := t.UTC().Truncate(24 * time.Hour)
	if days[d] == nil {
		days[d] = &Day{Date: d}
	}
	return days[d]
}

// series lists every day of the period, empty days included, so that
// charts show gaps as zeros.
func series(days map[time.Time]*Day, since, until time.Time) []Day {
	var out []Day
	for d := since.UTC().Truncate(24 * time.Hour); d.Before(until); d = d.Add(24 * time.Hour) {
		if v, ok := days[d]; ok {
			out = append(out, *v)
		} else {
			out = append(out, Day{Date: d})
		}
	}
	return out
}
