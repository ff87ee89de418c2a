package awsguard

import (
	"bytes"
	_ "embed"
	"html/template"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

//go:embed report.html.tmpl
var reportHTMLText string

var reportHTML = template.Must(template.New("report").Funcs(template.FuncMap{
	"lower": func(s any) string {
		switch v := s.(type) {
		case Status:
			return strings.ToLower(string(v))
		case Severity:
			return strings.ToLower(string(v))
		}
		return ""
	},
}).Parse(reportHTMLText))

// htmlBar is one bar of the summary chart.
type htmlBar struct {
	Label string
	Class string
	Count int
	Width int // pixels
	Y     int
}

type htmlEvidence struct{ Key, Value string }

type htmlFinding struct {
	Finding
	Evidence []htmlEvidence
}

type htmlCheck struct {
	Check       string
	Severity    Severity
	Controls    []string
	Remediation string
	Counts      []htmlBar // by status, non-zero only
	Findings    []htmlFinding
}

type htmlReport struct {
	GeneratedAt string
	Accounts    string
	Summary     Summary
	Failed      int
	Line        string
	StatusBars  []htmlBar
	FailBars    []htmlBar
	ChartHeight int
	FailHeight  int
	Statuses    []Status
	Severities  []Severity
	Checks      []htmlCheck
}

const barMax = 260 // pixels of the longest bar

func bars(labels []string, counts []int) ([]htmlBar, int) {
	most := 1
	for _, n := range counts {
		most = max(most, n)
	}
	out := make([]htmlBar, len(labels))
	for i, l := range labels {
		w := counts[i] * barMax / most
		if counts[i] > 0 && w < 2 {
			w = 2
		}
		out[i] = htmlBar{Label: l, Class: strings.ToLower(l), Count: counts[i], Width: w, Y: i * 26}
	}
	return out, len(labels) * 26
}

// WriteHTML writes the report as one self-contained HTML page for people
// (an auditor, a ticket): a summary by status and by severity of the
// failures with a chart (inline SVG), then the findings grouped by check,
// each with its status, resource, title, evidence, controls and fix, and a
// little inline script to filter them by status, severity and text. The
// page loads nothing: no script, style, font or image from elsewhere (its
// Content-Security-Policy forbids it). Every value is escaped.
func (r *Report) WriteHTML(w io.Writer) error {
	fs := slices.Clone(r.Findings)
	(&Report{Findings: fs}).Sort()
	sum := (&Report{Findings: fs}).Summary()
	d := htmlReport{
		GeneratedAt: r.GeneratedAt.UTC().Format(time.RFC3339),
		Summary:     sum,
		Failed:      sum.ByStatus[StatusFail],
		Line:        sum.String(),
		Statuses:    statuses,
		Severities:  severities,
	}
	accounts := map[string]bool{}
	var sLabels, fLabels []string
	var sCounts, fCounts []int
	for _, s := range []Status{StatusFail, StatusError, StatusPass, StatusNotApplicable} {
		sLabels, sCounts = append(sLabels, string(s)), append(sCounts, sum.ByStatus[s])
	}
	for _, s := range severities {
		fLabels, fCounts = append(fLabels, string(s)), append(fCounts, sum.FailedBySeverity[s])
	}
	d.StatusBars, d.ChartHeight = bars(sLabels, sCounts)
	d.FailBars, d.FailHeight = bars(fLabels, fCounts)

	var cur *htmlCheck
	controls := map[string]bool{}
	for _, f := range fs {
		if f.Account != "" {
			accounts[f.Account] = true
		}
		if cur == nil || cur.Check != f.Check {
			if cur != nil {
				cur.Controls = slices.Sorted(maps.Keys(controls))
			}
			d.Checks = append(d.Checks, htmlCheck{Check: f.Check, Severity: f.Severity})
			cur = &d.Checks[len(d.Checks)-1]
			controls = map[string]bool{}
		}
		if f.Severity.Rank() < cur.Severity.Rank() {
			cur.Severity = f.Severity
		}
		if cur.Remediation == "" {
			cur.Remediation = f.Remediation
		}
		for _, c := range f.Controls {
			controls[c] = true
		}
		hf := htmlFinding{Finding: f}
		for _, k := range slices.Sorted(maps.Keys(f.Evidence)) {
			hf.Evidence = append(hf.Evidence, htmlEvidence{k, f.Evidence[k]})
		}
		cur.Findings = append(cur.Findings, hf)
	}
	if cur != nil {
		cur.Controls = slices.Sorted(maps.Keys(controls))
	}
	for i := range d.Checks {
		c := &d.Checks[i]
		n := map[Status]int{}
		for _, f := range c.Findings {
			n[f.Status]++
		}
		for _, s := range []Status{StatusFail, StatusError, StatusPass, StatusNotApplicable} {
			if n[s] > 0 {
				c.Counts = append(c.Counts, htmlBar{Label: string(s), Class: strings.ToLower(string(s)), Count: n[s]})
			}
		}
	}
	// Checks with failures first, then errors, then the rest; the most
	// severe first; then by ID.
	worst := func(c htmlCheck) int { // Counts run FAIL, ERROR, PASS, NOT_APPLICABLE
		switch {
		case len(c.Counts) == 0:
			return 2
		case c.Counts[0].Label == string(StatusFail):
			return 0
		case c.Counts[0].Label == string(StatusError):
			return 1
		}
		return 2
	}
	slices.SortStableFunc(d.Checks, func(a, b htmlCheck) int {
		if n := worst(a) - worst(b); n != 0 {
			return n
		}
		if n := a.Severity.Rank() - b.Severity.Rank(); n != 0 {
			return n
		}
		return strings.Compare(a.Check, b.Check)
	})
	d.Accounts = strings.Join(slices.Sorted(maps.Keys(accounts)), ", ")
	var buf bytes.Buffer
	if err := reportHTML.Execute(&buf, d); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}
