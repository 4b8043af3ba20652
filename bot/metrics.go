package bot

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the engine's Prometheus collectors. A nil *Metrics records
// nothing, so tests need not wire one.
type Metrics struct {
	messages      *prometheus.CounterVec
	duplicates    *prometheus.CounterVec
	conversations *prometheus.CounterVec
	humanRequests *prometheus.CounterVec
	turns         *prometheus.CounterVec
	turnSeconds   prometheus.Histogram
	toolCalls     *prometheus.CounterVec
	modelFailures prometheus.Counter
	masked        prometheus.Counter
	ratings       *prometheus.CounterVec
	feedback      *prometheus.CounterVec
	drafts        prometheus.Counter
	modelCalls    *prometheus.CounterVec
	modelTokens   *prometheus.CounterVec
}

// NewMetrics creates the engine's collectors and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "firstline", Name: "messages_received_total",
			Help: "Customer messages accepted, by platform.",
		}, []string{"platform"}),
		duplicates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "firstline", Name: "messages_duplicate_total",
			Help: "Customer messages delivered again by the platform and ignored.",
		}, []string{"platform"}),
		conversations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "firstline", Name: "conversations_opened_total",
			Help: "Conversations opened, by platform.",
		}, []string{"platform"}),
		humanRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "firstline", Name: "human_requests_total",
			Help: "Explicit requests for a person (phrase or button).",
		}, []string{"via"}),
		turns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "firstline", Name: "turns_total",
			Help: "Model turns, by outcome (answered, handoff, dropped).",
		}, []string{"outcome"}),
		turnSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "firstline", Name: "turn_duration_seconds",
			Help:    "Time a model turn took, tools included.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10),
		}),
		toolCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "firstline", Name: "tool_calls_total",
			Help: "Tool calls made by the model, by tool and outcome.",
		}, []string{"tool", "outcome"}),
		modelFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "firstline", Name: "model_failures_total",
			Help: "Turns where the model or a tool failed and the customer was handed to a person.",
		}),
		masked: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "firstline", Name: "secrets_masked_total",
			Help: "Card numbers and similar secrets masked in customer messages.",
		}),
		ratings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "firstline", Name: "ratings_total",
			Help: "Customer satisfaction ratings after a handoff, by score.",
		}, []string{"score"}),
	}
	m.modelCalls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "firstline", Name: "model_calls_total",
		Help: "Calls to the model, by outcome (ok, error).",
	}, []string{"outcome"})
	m.modelTokens = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "firstline", Name: "model_tokens_total",
		Help: "Tokens the model endpoint reported, by kind (prompt, completion).",
	}, []string{"kind"})
	m.drafts = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "firstline", Name: "shadow_drafts_total",
		Help: "Answers the bot drafted in shadow mode (firstline_shadow_drafts_sent_total of them were sent unchanged).",
	})
	m.feedback = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "firstline", Name: "feedback_total",
		Help: "Customers' votes on the bot's answers (the feedback buttons), by vote (up, down).",
	}, []string{"vote"})
	reg.MustRegister(m.modelCalls, m.modelTokens, m.drafts, m.feedback)
	reg.MustRegister(m.messages, m.duplicates, m.conversations, m.humanRequests, m.turns,
		m.turnSeconds, m.toolCalls, m.modelFailures, m.masked, m.ratings)
	return m
}

func (m *Metrics) received(p Platform) {
	if m != nil {
		m.messages.WithLabelValues(string(p)).Inc()
	}
}

func (m *Metrics) duplicate(p Platform) {
	if m != nil {
		m.duplicates.WithLabelValues(string(p)).Inc()
	}
}

func (m *Metrics) conversationOpened(p Platform) {
	if m != nil {
		m.conversations.WithLabelValues(string(p)).Inc()
	}
}

func (m *Metrics) humanRequest(via Platform) {
	if m != nil {
		m.humanRequests.WithLabelValues(string(via)).Inc()
	}
}

func (m *Metrics) turnDone(_ Platform, t turn, d time.Duration) {
	if m == nil {
		return
	}
	outcome := "dropped"
	switch {
	case t.handoff != nil:
		outcome = "handoff"
	case t.reply != "":
		outcome = "answered"
	}
	m.turns.WithLabelValues(outcome).Inc()
	m.turnSeconds.Observe(d.Seconds())
}

func (m *Metrics) toolCall(name, outcome string) {
	if m == nil {
		return
	}
	if name != ToolPaymentStatus && name != ToolHandoffToHuman {
		name = "unknown" // bounded label values, whatever the model says
	}
	m.toolCalls.WithLabelValues(name, outcome).Inc()
}

func (m *Metrics) modelFailure() {
	if m != nil {
		m.modelFailures.Inc()
	}
}

func (m *Metrics) maskedSecrets(n int) {
	if m != nil {
		m.masked.Add(float64(n))
	}
}

func (m *Metrics) rating(n int) {
	if m != nil {
		m.ratings.WithLabelValues(strconv.Itoa(n)).Inc()
	}
}

func (m *Metrics) vote(helpful bool) {
	if m != nil {
		m.feedback.WithLabelValues(voteLabel(helpful)).Inc()
	}
}

func (m *Metrics) modelCall(err error, u Usage) {
	if m == nil {
		return
	}
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	m.modelCalls.WithLabelValues(outcome).Inc()
	m.modelTokens.WithLabelValues("prompt").Add(float64(u.PromptTokens))
	m.modelTokens.WithLabelValues("completion").Add(float64(u.CompletionTokens))
}

func (m *Metrics) draft() {
	if m != nil {
		m.drafts.Inc()
	}
}
