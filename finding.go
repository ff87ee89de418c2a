package awsguard

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Status is the outcome of one check on one resource.
type Status string

// The statuses a Finding can carry.
const (
	StatusPass Status = "PASS"
	// StatusFail means the resource does not meet the check.
	StatusFail Status = "FAIL"
	// StatusError means the check could not decide; the finding's evidence
	// says why.
	StatusError Status = "ERROR"
	// StatusNotApplicable means the check does not apply to the resource.
	StatusNotApplicable Status = "NOT_APPLICABLE"
)

var statuses = []Status{StatusPass, StatusFail, StatusError, StatusNotApplicable}

// Valid reports whether s is one of the defined statuses.
func (s Status) Valid() bool { return slices.Contains(statuses, s) }

// UnmarshalText accepts only the defined statuses.
func (s *Status) UnmarshalText(b []byte) error {
	v := Status(b)
	if !v.Valid() {
		return fmt.Errorf("awsguard: unknown status %q (want one of %v)", b, statuses)
	}
	*s = v
	return nil
}

// Severity ranks how much a failing finding matters.
type Severity string

// The severities a Finding can carry, from the most to the least severe.
const (
	SeverityCritical Severity = "CRITICAL"
	SeverityHigh     Severity = "HIGH"
	SeverityMedium   Severity = "MEDIUM"
	SeverityLow      Severity = "LOW"
	SeverityInfo     Severity = "INFO"
)

var severities = []Severity{SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow, SeverityInfo}

// Valid reports whether s is one of the defined severities.
func (s Severity) Valid() bool { return slices.Contains(severities, s) }

// Rank orders severities: CRITICAL is 0, INFO is 4, an unknown value 5.
func (s Severity) Rank() int {
	if i := slices.Index(severities, s); i >= 0 {
		return i
	}
	return len(severities)
}

// UnmarshalText accepts only the defined severities.
func (s *Severity) UnmarshalText(b []byte) error {
	v := Severity(b)
	if !v.Valid() {
		return fmt.Errorf("awsguard: unknown severity %q (want one of %v)", b, severities)
	}
	*s = v
	return nil
}

// RegionGlobal is the region of findings about global resources (IAM).
const RegionGlobal = "global"

// Finding is the result of one check on one resource. Its JSON form is a
// public contract: field names and meanings never change.
type Finding struct {
	// Check is the stable check ID, service.scope.name in lower case.
	Check    string   `json:"check"`
	Status   Status   `json:"status"`
	Severity Severity `json:"severity"`
	Account  string   `json:"account"`
	// Region is the AWS region, or RegionGlobal for global resources.
	Region string `json:"region"`
	// Resource is the resource's ARN, or its ID where it has no ARN.
	Resource string `json:"resource"`
	// Title is one line a person reads.
	Title string `json:"title"`
	// Evidence holds the values read that decided the status.
	Evidence map[string]string `json:"evidence"`
	// Controls names the baseline items the check serves, such as
	// "ISMS-P:2.5.3" or "CIS:1.10".
	Controls []string `json:"controls"`
	// Remediation names the library function that fixes a failure, such as
	// "iamguard.CreateVirtualMFA", or is empty.
	Remediation string `json:"remediation"`
}

// MarshalJSON writes empty evidence and controls as {} and [], never null,
// so that parsers see the same shape for every finding.
func (f Finding) MarshalJSON() ([]byte, error) {
	type plain Finding
	p := plain(f)
	if p.Evidence == nil {
		p.Evidence = map[string]string{}
	}
	if p.Controls == nil {
		p.Controls = []string{}
	}
	return json.Marshal(p)
}

// compare orders findings by check, account, region, resource, then title and
// status so that the order is total for distinct findings.
func (f *Finding) compare(g *Finding) int {
	for _, c := range [][2]string{
		{f.Check, g.Check}, {f.Account, g.Account}, {f.Region, g.Region},
		{f.Resource, g.Resource}, {f.Title, g.Title}, {string(f.Status), string(g.Status)},
	} {
		if n := strings.Compare(c[0], c[1]); n != 0 {
			return n
		}
	}
	return 0
}

// Report is what an audit returns: the findings and when they were made.
type Report struct {
	GeneratedAt time.Time
	Findings    []Finding
}

// NewReport returns a report of the findings, generated at now and sorted.
func NewReport(now time.Time, findings ...Finding) *Report {
	r := &Report{GeneratedAt: now, Findings: findings}
	r.Sort()
	return r
}

// Add appends findings to the report and restores the order.
func (r *Report) Add(findings ...Finding) {
	r.Findings = append(r.Findings, findings...)
	r.Sort()
}

// Sort orders the findings by check, account, region and resource. Two runs
// over the same state give the same order.
func (r *Report) Sort() {
	slices.SortStableFunc(r.Findings, func(a, b Finding) int { return a.compare(&b) })
}

// Merge returns one sorted report holding the findings of all reports, nil
// reports skipped. Its GeneratedAt is the earliest of theirs, because a
// merged report is only as fresh as its oldest part.
func Merge(reports ...*Report) *Report {
	out := &Report{}
	for _, r := range reports {
		if r == nil {
			continue
		}
		if out.GeneratedAt.IsZero() || (!r.GeneratedAt.IsZero() && r.GeneratedAt.Before(out.GeneratedAt)) {
			out.GeneratedAt = r.GeneratedAt
		}
		out.Findings = append(out.Findings, r.Findings...)
	}
	out.Sort()
	return out
}

// Filter returns a report with the findings for which keep returns true.
func (r *Report) Filter(keep func(Finding) bool) *Report {
	out := &Report{GeneratedAt: r.GeneratedAt}
	for _, f := range r.Findings {
		if keep(f) {
			out.Findings = append(out.Findings, f)
		}
	}
	return out
}

// Summary counts a report's findings.
type Summary struct {
	Total      int
	ByStatus   map[Status]int
	BySeverity map[Severity]int
	// FailedBySeverity counts only findings with StatusFail.
	FailedBySeverity map[Severity]int
}

// Summary counts the findings by status and by severity.
func (r *Report) Summary() Summary {
	s := Summary{ByStatus: map[Status]int{}, BySeverity: map[Severity]int{}, FailedBySeverity: map[Severity]int{}}
	for _, f := range r.Findings {
		s.Total++
		s.ByStatus[f.Status]++
		s.BySeverity[f.Severity]++
		if f.Status == StatusFail {
			s.FailedBySeverity[f.Severity]++
		}
	}
	return s
}

// String renders the summary in one line, statuses and severities in their
// fixed order, zero counts left out.
func (s Summary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d findings", s.Total)
	for _, st := range statuses {
		if n := s.ByStatus[st]; n > 0 {
			fmt.Fprintf(&b, ", %d %s", n, st)
		}
	}
	var failed []string
	for _, sv := range severities {
		if n := s.FailedBySeverity[sv]; n > 0 {
			failed = append(failed, fmt.Sprintf("%d %s", n, sv))
		}
	}
	if len(failed) > 0 {
		fmt.Fprintf(&b, " (failed: %s)", strings.Join(failed, ", "))
	}
	return b.String()
}

type reportJSON struct {
	GeneratedAt string    `json:"generated_at"`
	Findings    []Finding `json:"findings"`
}

// MarshalJSON writes the public JSON contract: generated_at in RFC 3339 UTC
// to the second, findings sorted, never null.
func (r Report) MarshalJSON() ([]byte, error) {
	fs := slices.Clone(r.Findings)
	if fs == nil {
		fs = []Finding{}
	}
	(&Report{Findings: fs}).Sort()
	return json.Marshal(reportJSON{GeneratedAt: r.GeneratedAt.UTC().Format(time.RFC3339), Findings: fs})
}

// UnmarshalJSON reads the public JSON contract and rejects unknown statuses,
// severities and a malformed generated_at.
func (r *Report) UnmarshalJSON(b []byte) error {
	var v reportJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	t, err := time.Parse(time.RFC3339, v.GeneratedAt)
	if err != nil {
		return fmt.Errorf("awsguard: generated_at: %w", err)
	}
	for i, f := range v.Findings {
		if f.Check == "" {
			return fmt.Errorf("awsguard: finding %d: check is empty", i)
		}
		if f.Status == "" || f.Severity == "" {
			return fmt.Errorf("awsguard: finding %d (%s): status and severity are required", i, f.Check)
		}
	}
	r.GeneratedAt, r.Findings = t, v.Findings
	return nil
}

// WriteJSON writes the report as indented JSON in the public contract.
func (r *Report) WriteJSON(w io.Writer) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// ReadReport reads a report written by WriteJSON.
func ReadReport(rd io.Reader) (*Report, error) {
	var r Report
	if err := json.NewDecoder(rd).Decode(&r); err != nil {
		return nil, fmt.Errorf("awsguard: read report: %w", err)
	}
	return &r, nil
}

// CSVHeader is the first row WriteCSV writes.
var CSVHeader = []string{"generated_at", "check", "status", "severity", "account", "region", "resource", "title", "evidence", "controls", "remediation"}

// WriteCSV writes one row per finding under CSVHeader. Evidence is a JSON
// object in its cell (keys sorted), controls are joined by ";". A cell that
// a spreadsheet would run as a formula (starting with =, +, -, @, tab or
// carriage return: IAM names may start with = or +) gets a leading
// apostrophe.
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	gen := r.GeneratedAt.UTC().Format(time.RFC3339)
	fs := slices.Clone(r.Findings)
	(&Report{Findings: fs}).Sort()
	for _, f := range fs {
		ev := f.Evidence
		if ev == nil {
			ev = map[string]string{}
		}
		evb, err := json.Marshal(ev) // encoding/json sorts map keys
		if err != nil {
			return err
		}
		row := []string{gen, f.Check, string(f.Status), string(f.Severity), f.Account, f.Region,
			f.Resource, f.Title, string(evb), strings.Join(f.Controls, ";"), f.Remediation}
		for i := range row {
			row[i] = csvSafe(row[i])
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// TableWidth is the width WriteTable fits its lines to.
const TableWidth = 120

// WriteTable writes the findings as an aligned text table for a terminal:
// status, severity, check, resource and title, one finding a row, then the
// summary. Lines fit TableWidth columns: when they would not, ARNs are
// shown by their resource part alone ("user/alice"), a resource still too
// long loses its start (marked "..."), and a title too long wraps at
// spaces onto lines of its own under the TITLE column. The full values are
// in the JSON and CSV forms.
func (r *Report) WriteTable(w io.Writer) error {
	fs := slices.Clone(r.Findings)
	(&Report{Findings: fs}).Sort()
	rows := [][5]string{{"STATUS", "SEVERITY", "CHECK", "RESOURCE", "TITLE"}}
	for _, f := range fs {
		rows = append(rows, [5]string{string(f.Status), string(f.Severity), oneLine(f.Check), oneLine(f.Resource), oneLine(f.Title)})
	}
	var width [5]int
	for _, row := range rows {
		for i, c := range row {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	const gap = 2
	avail := TableWidth - (width[0] + width[1] + width[2] + 4*gap)
	if width[3]+width[4] > avail {
		// Resources first lose the "arn:partition:service:region:account:"
		// of their ARNs, in every row alike.
		width[3] = len("RESOURCE")
		for i := range rows[1:] {
			row := &rows[i+1]
			if parts := strings.SplitN(row[3], ":", 6); len(parts) == 6 && parts[0] == "arn" {
				row[3] = parts[5]
			}
			width[3] = max(width[3], utf8.RuneCountInString(row[3]))
		}
	}
	if width[3]+width[4] > avail {
		// The title keeps at least 40 columns, or what it needs; the
		// resource gets the rest (at least 16), the title what is left.
		width[3] = min(width[3], max(avail-min(width[4], 40), 16))
		width[4] = max(avail-width[3], 20)
	}
	indent := width[0] + width[1] + width[2] + width[3] + 4*gap
	var b bytes.Buffer
	for _, row := range rows {
		row[3] = cutLeft(row[3], width[3])
		for i := range 4 {
			b.WriteString(row[i])
			b.WriteString(strings.Repeat(" ", width[i]-utf8.RuneCountInString(row[i])+gap))
		}
		for i, l := range wrap(row[4], width[4]) {
			if i > 0 {
				b.WriteString(strings.Repeat(" ", indent))
			}
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	fmt.Fprintln(&b, r.Summary())
	_, err := w.Write(b.Bytes())
	return err
}

// wrap breaks s at spaces into lines of at most n runes; a word longer
// than n is cut.
func wrap(s string, n int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		for utf8.RuneCountInString(word) > n {
			if line != "" {
				lines, line = append(lines, line), ""
			}
			rs := []rune(word)
			lines, word = append(lines, string(rs[:n])), string(rs[n:])
		}
		switch {
		case line == "":
			line = word
		case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word) <= n:
			line += " " + word
		default:
			lines, line = append(lines, line), word
		}
	}
	return append(lines, line)
}

// cutLeft shortens s to n runes, its start replaced by "...".
func cutLeft(s string, n int) string {
	rs := []rune(s)
	if len(rs) <= n {
		return s
	}

	if n <= 3 {
		return string(rs[len(rs)-n:])
	}
	return "..." + string(rs[len(rs)-n+3:])
}

func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		return r
	}, s)
}

// Checks returns the distinct check IDs of the report, sorted.
func (r *Report) Checks() []string {
	set := map[string]bool{}
	for _, f := range r.Findings {
		set[f.Check] = true
	}
	return slices.Sorted(maps.Keys(set))
}
