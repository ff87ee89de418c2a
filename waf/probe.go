package waf

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/awsguard/awsguard"
)

// OpProbe names Probe in errors.
const OpProbe = "waf.Probe"

// ErrProbeFailed: no probe request got an HTTP answer (the server is down,
// the address is wrong); the report holds each request's error.
var ErrProbeFailed = errors.New("waf: no probe request was answered")

// Location is where a probe puts its payload.
type Location string

// The locations of the payloads, in the order they are probed.
const (
	InQuery  Location = "query"  // GET URL?user=admin&password=PAYLOAD
	InForm   Location = "form"   // POST application/x-www-form-urlencoded
	InJSON   Location = "json"   // POST application/json {"user":"admin","password":PAYLOAD}
	InCookie Location = "cookie" // Cookie: password=PAYLOAD (%, space, ", comma, ; and \ percent-encoded)
	InHeader Location = "header" // ProbeOptions.Header: PAYLOAD
)

// Locations lists every location.
var Locations = []Location{InQuery, InForm, InJSON, InCookie, InHeader}

// Payload is one value a probe sends in the password field.
type Payload struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	// Attack is true for an SQL-injection payload, false for a benign one.
	Attack bool `json:"attack"`
}

// DefaultPayloads returns the probe's payloads: two benign logins (the
// test application's right password, and a wrong one, which must be
// answered, not blocked), then the SQL injections: the classic tautologies, UNION SELECT, a
// stacked query, comment and case tricks, and URL- and double-encoded
// forms.
func DefaultPayloads() []Payload {
	return []Payload{
		{Name: "benign-password", Value: "s3cret-Passw0rd"},
		{Name: "benign-wrong-password", Value: "correct horse battery staple"},
		{Name: "tautology", Value: "' OR '1'='1", Attack: true},
		{Name: "tautology-comment", Value: "' OR '1'='1'--", Attack: true},
		{Name: "union-select", Value: "' UNION SELECT user FROM users--", Attack: true},
		{Name: "stacked-query", Value: "'; SELECT sqlite_version();--", Attack: true},
		{Name: "inline-comments", Value: "'/**/OR/**/'1'/**/=/**/'1", Attack: true},
		{Name: "mixed-case", Value: "' oR 'a'='a", Attack: true},
		{Name: "url-encoded", Value: "%27%20OR%20%271%27%3D%271", Attack: true},
		{Name: "double-encoded", Value: "%2527%2520OR%2520%25271%2527%253D%25271", Attack: true},
	}
}

// ProbeOptions tune Probe. The zero value means the defaults.
type ProbeOptions struct {
	// Budget is the most requests sent; default 100. Payloads past it are
	// not sent and the report says so (Truncated).
	Budget int
	// Timeout bounds each request; default 10 s.
	Timeout time.Duration
	// Rate is the most requests per second; default 5.
	Rate float64
	// BlockedStatus are the HTTP statuses that mean "blocked"; default
	// [403] (AWS WAF's and ModSecurity's default block answer).
	BlockedStatus []int
	// UserField and PasswordField name the login fields; defaults "user"
	// and "password". User is the user name sent; default "admin".
	UserField, PasswordField, User string
	// Header is the header of the InHeader location; default
	// "User-Agent" (which the OWASP Core Rule Set inspects; AWS's SQLi
	// group inspects no header, so a header result shows whether an
	// application reading a header is protected).
	Header string
	// Locations to probe; default Locations.
	Locations []Location
	// Payloads to send; default DefaultPayloads.
	Payloads []Payload
	// SuccessMarker, if set, is text whose presence in a response body
	// means the request logged in (ProbeResult.GotIn); the first 64 KiB
	// of each body are read.
	SuccessMarker string
	// Client sends the requests; default an http.Client without
	// cookies. Its redirects are limited anyway: at most 3, never to
	// another host.
	Client *http.Client
	// Logger receives one record per request; default discards.
	Logger *slog.Logger
}

// ProbeResult is one request of a probe.
type ProbeResult struct {
	Payload  string   `json:"payload"`
	Value    string   `json:"value"`
	Location Location `json:"location"`
	Attack   bool     `json:"attack"`
	// Status is the HTTP status, 0 when the request failed (Error).
	Status int `json:"status"`
	// Blocked is true when Status is one of the blocked statuses.
	Blocked bool `json:"blocked"`
	// GotIn is true when the body held ProbeOptions.SuccessMarker.
	GotIn bool   `json:"got_in,omitempty"`
	Error string `json:"error,omitempty"`
	// Redirect is the Location of a redirect not followed (to another
	// host, or past the limit).
	Redirect string        `json:"redirect,omitempty"`
	Duration time.Duration `json:"duration_ns"`
}

// Verdict sums up a probe.
type Verdict string

// The verdicts of a probe.
const (
	// VerdictProtected: every attack was blocked and every benign request
	// passed.
	VerdictProtected Verdict = "protected"
	// VerdictAttacksPassed: at least one attack was answered without
	// being blocked.
	VerdictAttacksPassed Verdict = "attacks-passed"
	// VerdictBenignBlocked: every attack was blocked, but so was benign
	// traffic: the protection breaks the application.
	VerdictBenignBlocked Verdict = "benign-blocked"
	// VerdictIncomplete: some requests were not sent (budget) or not
	// answered, and nothing answered says otherwise.
	VerdictIncomplete Verdict = "incomplete"
)

// ProbeReport is what Probe found, request by request.
type ProbeReport struct {
	URL     string        `json:"url"`
	Results []ProbeResult `json:"results"`
	// The counts of attacks and benign requests sent, blocked, passed
	// (answered and not blocked), attacks that got in (SuccessMarker),
	// and requests that failed (no answer).
	AttacksSent    int `json:"attacks_sent"`
	AttacksBlocked int `json:"attacks_blocked"`
	AttacksPassed  int `json:"attacks_passed"`
	AttacksGotIn   int `json:"attacks_got_in"`
	BenignSent     int `json:"benign_sent"`
	BenignPassed   int `json:"benign_passed"`
	BenignBlocked  int `json:"benign_blocked"`
	Failed         int `json:"failed"`
	// Truncated is true when the budget stopped the probe early.
	Truncated bool    `json:"truncated"`
	Verdict   Verdict `json:"verdict"`
}

func newProbeOptions(optFns []func(*ProbeOptions)) (ProbeOptions, error) {
	var o ProbeOptions
	for _, fn := range optFns {
		fn(&o)
	}
	bad := func(field, value, allowed string) error {
		return &awsguard.InputError{Operation: OpProbe, Field: field, Value: value, Allowed: allowed}
	}
	switch {
	case o.Budget < 0 || o.Budget > 10000:
		return o, bad("ProbeOptions.Budget", fmt.Sprint(o.Budget), "0..10000 (0 for the default, 100)")
	case o.Timeout < 0 || o.Timeout > 5*time.Minute:
		return o, bad("ProbeOptions.Timeout", o.Timeout.String(), "0..5m (0 for the default, 10s)")
	case o.Rate < 0 || o.Rate > 100:
		return o, bad("ProbeOptions.Rate", fmt.Sprint(o.Rate), "0..100 requests a second (0 for the default, 5)")
	}
	for _, s := range o.BlockedStatus {
		if s < 100 || s > 599 {
			return o, bad("ProbeOptions.BlockedStatus", fmt.Sprint(s), "HTTP statuses 100..599")
		}
	}
	for _, l := range o.Locations {
		if !slices.Contains(Locations, l) {
			return o, bad("ProbeOptions.Locations", string(l), "query, form, json, cookie or header")
		}
	}
	if o.Header != "" && !validHeaderName(o.Header) {
		return o, bad("ProbeOptions.Header", o.Header, "an HTTP header name")
	}
	for i, p := range o.Payloads {
		if strings.ContainsAny(p.Value, "\r\n\x00") {
			return o, bad(fmt.Sprintf("ProbeOptions.Payloads[%d].Value", i), p.Name, "no CR, LF or NUL")
		}
	}
	if o.Budget == 0 {
		o.Budget = 100
	}
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Rate == 0 {
		o.Rate = 5
	}
	if len(o.BlockedStatus) == 0 {
		o.BlockedStatus = []int{http.StatusForbidden}
	}
	if o.UserField == "" {
		o.UserField = "user"
	}
	if o.PasswordField == "" {
		o.PasswordField = "password"
	}
	if o.User == "" {
		o.User = "admin"
	}
	if o.Header == "" {
		o.Header = "User-Agent"
	}
	if len(o.Locations) == 0 {
		o.Locations = Locations
	}
	if len(o.Payloads) == 0 {
		o.Payloads = DefaultPayloads()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

func validHeaderName(s string) bool {
	for _, r := range s {
		if !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return s != ""
}

// Probe sends benign logins and SQL-injection payloads to the URL, in the
// query string, a form body, a JSON body, a cookie and a header, and
// reports request by request which were blocked (an HTTP status of
// ProbeOptions.BlockedStatus) and whether benign requests passed. It is
// bounded: at most Budget requests, each within Timeout, at most Rate a
// second, only the URL given (it follows no link, and no redirect to
// another host or past three). Point it only at applications you are
// allowed to test.
//
// The error is an *awsguard.InputError for a bad URL or option,
// ErrProbeFailed when no request was answered (the report is still
// returned), or the context's error.
func Probe(ctx context.Context, target string, optFns ...func(*ProbeOptions)) (*ProbeReport, error) {
	o, err := newProbeOptions(optFns)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.Fragment != "" {
		return nil, &awsguard.InputError{Operation: OpProbe, Field: "url", Value: target, Allowed: "an absolute http or https URL without user info or fragment"}
	}
	client := probeClient(o.Client, u.Hostname())
	rep := &ProbeReport{URL: target}
	interval := time.Duration(float64(time.Second) / o.Rate)
	var next time.Time
	sent := 0
	for _, loc := range o.Locations {
		for _, p := range o.Payloads {
			if sent >= o.Budget {
				rep.Truncated = true
				break
			}
			if wait := time.Until(next); wait > 0 {
				t := time.NewTimer(wait)
				select {
				case <-ctx.Done():
					t.Stop()
					rep.finish()
					return rep, ctx.Err()
				case <-t.C:
				}
			}
			if err := ctx.Err(); err != nil {
				rep.finish()
				return rep, err
			}
			next = time.Now().Add(interval)
			sent++
			r := probeOne(ctx, client, u, loc, p, &o)
			o.Logger.InfoContext(ctx, "probe", "operation", OpProbe, "resource", target, "location", string(loc), "payload", p.Name, "status", r.Status, "blocked", r.Blocked)
			rep.Results = append(rep.Results, r)
		}
	}
	rep.finish()
	if len(rep.Results) > 0 && rep.Failed == len(rep.Results) {
		return rep, fmt.Errorf("%w: %s: %s", ErrProbeFailed, target, rep.Results[0].Error)
	}
	return rep, nil
}

// finish counts the results and decides the verdict.
func (r *ProbeReport) finish() {
	r.AttacksSent, r.AttacksBlocked, r.AttacksPassed, r.AttacksGotIn = 0, 0, 0, 0
	r.BenignSent, r.BenignPassed, r.BenignBlocked, r.Failed = 0, 0, 0, 0
	for _, res := range r.Results {
		failed := res.Status == 0
		if failed {
			r.Failed++
		}
		if res.Attack {
			r.AttacksSent++
			switch {
			case res.Blocked:
				r.AttacksBlocked++
			case !failed:
				r.AttacksPassed++
			}
			if res.GotIn {
				r.AttacksGotIn++
			}
			continue
		}
		r.BenignSent++
		switch {
		case res.Blocked:
			r.BenignBlocked++
		case !failed:
			r.BenignPassed++
		}
	}
	switch {
	case r.AttacksPassed > 0:
		r.Verdict = VerdictAttacksPassed
	case r.BenignBlocked > 0:
		r.Verdict = VerdictBenignBlocked
	case r.Truncated || r.Failed > 0 || len(r.Results) == 0:
		r.Verdict = VerdictIncomplete
	default:
		r.Verdict = VerdictProtected
	}
}

// probeClient returns a client that follows at most three redirects and
// none to another host. It copies the caller's client, so the caller's
// redirect policy is not changed.
func probeClient(c *http.Client, host string) *http.Client {
	var cl http.Client
	if c != nil {
		cl = *c
	}
	cl.Jar = nil
	cl.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 3 || !strings.EqualFold(req.URL.Hostname(), host) {
			return http.ErrUseLastResponse
		}
		return nil
	}
	return &cl
}

func probeOne(ctx context.Context, client *http.Client, base *url.URL, loc Location, p Payload, o *ProbeOptions) ProbeResult {
	res := ProbeResult{Payload: p.Name, Value: p.Value, Location: loc, Attack: p.Attack}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	req, err := buildRequest(ctx, base, loc, p.Value, o)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	start := time.Now()
	resp, err := client.Do(req)
	res.Duration = time.Since(start)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	res.Status = resp.StatusCode
	res.Blocked = slices.Contains(o.BlockedStatus, resp.StatusCode)
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		res.Redirect = resp.Header.Get("Location")
	}
	if o.SuccessMarker != "" && !res.Blocked {
		res.GotIn = bytes.Contains(body, []byte(o.SuccessMarker))
	}
	return res
}

func buildRequest(ctx context.Context, base *url.URL, loc Location, value string, o *ProbeOptions) (*http.Request, error) {
	u := *base
	q := u.Query()
	var body io.Reader
	method, ctype := http.MethodGet, ""
	switch loc {
	case InQuery:
		q.Set(o.UserField, o.User)
		q.Set(o.PasswordField, value)
	case InForm:
		method, ctype = http.MethodPost, "application/x-www-form-urlencoded"
		body = strings.NewReader(url.Values{o.UserField: {o.User}, o.PasswordField: {value}}.Encode())
	case InJSON:
		method, ctype = http.MethodPost, "application/json"
		b, err := json.Marshal(map[string]string{o.UserField: o.User, o.PasswordField: value})
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	case InCookie, InHeader:
		q.Set(o.UserField, o.User)
	}
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	switch loc {
	case InCookie:
		req.Header.Set("Cookie", o.PasswordField+"="+cookieValue(value))
	case InHeader:
		req.Header.Set(o.Header, value)
	}
	if loc != InHeader || !strings.EqualFold(o.Header, "User-Agent") {
		req.Header.Set("User-Agent", "awsguard-waf-probe/1")
	}
	return req, nil
}

// cookieValue percent-encodes the bytes a cookie value cannot hold as
// they are (and "%" itself, so that a server decoding once gets the
// value back); everything else is sent as it is, as an attacker would.
func cookieValue(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '%' || c <= ' ' || c >= 0x7f || c == '"' || c == ',' || c == ';' || c == '\\' {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
