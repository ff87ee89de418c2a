package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/present"
)

// failures are the statuses the story's tables show by default.
var failures = []awsguard.Status{awsguard.StatusFail, awsguard.StatusError}

// writeText prints the story: the audit (its summary by severity, then
// what fails), each fix in words by concern, the audit after the fixes
// beside the one before (by severity, then each finding that changed),
// what still fails, and what the demo removed at its end. A read-only run
// (-aws without -fix) prints the audit alone.
func (d *demo) writeText() error {
	w := d.stdout
	out := d.out
	if !d.fixed {
		fmt.Fprintln(w, "\nFindings (read-only audit; add -fix to apply the fixes that are safe in any account):")
		return present.ForPeople(out.Before, d.statuses).WriteTable(w)
	}
	shown := d.statuses
	if len(shown) == 0 {
		shown = failures
	}
	fmt.Fprintln(w, "\nThe audit, by severity:")
	if err := writeSeverities(w, out.Before, nil); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nFindings (%s):\n", statusList(shown))
	if err := writeTable(w, present.ForPeople(out.Before, shown)); err != nil {
		return err
	}
	if d.dryRun {
		fmt.Fprintln(w, "\nPlanned fixes (dry run, nothing changed):")
	} else {
		fmt.Fprintln(w, "\nFixes applied:")
	}
	if len(out.Changes) == 0 {
		fmt.Fprintln(w, "  (nothing to do)")
	}
	for _, g := range d.groups {
		if len(g.lines) == 0 {
			continue
		}
		fmt.Fprintf(w, "  %s:\n", g.name)
		writeLinesIndent(w, g.lines, "  ")
	}
	if out.After == nil {
		return nil
	}
	fmt.Fprintln(w, "\nBefore and after the fixes, by severity:")
	if err := writeSeverities(w, out.Before, out.After); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nFindings the fixes changed:")
	if err := writeChanged(w, out.Before, out.After); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nStill failing:")
	if err := writeTable(w, present.ForPeople(out.After, failures)); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nbefore: %s\nafter:  %s\n", out.Before.Summary(), out.After.Summary())
	if len(out.Teardown) > 0 {
		fmt.Fprintln(w, "\nRemoved at the end (the demo leaves nothing running):")
		writeLines(w, out.Teardown)
	}
	return nil
}

func statusList(ss []awsguard.Status) string {
	names := make([]string, len(ss))
	for i, s := range ss {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// writeSeverities prints, per severity, how many findings fail of how
// many were checked: for before alone, or before and after side by side.
func writeSeverities(w io.Writer, before, after *awsguard.Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := "  SEVERITY\tFAILED"
	if after != nil {
		head = "  SEVERITY\tBEFORE\tAFTER"
	}
	fmt.Fprintln(tw, head)
	b := before.Summary()
	var a awsguard.Summary
	if after != nil {
		a = after.Summary()
	}
	for _, sv := range []awsguard.Severity{awsguard.SeverityCritical, awsguard.SeverityHigh, awsguard.SeverityMedium, awsguard.SeverityLow, awsguard.SeverityInfo} {
		if b.BySeverity[sv] == 0 && a.BySeverity[sv] == 0 {
			continue
		}
		row := fmt.Sprintf("  %s\t%d of %d", sv, b.FailedBySeverity[sv], b.BySeverity[sv])
		if after != nil {
			row += fmt.Sprintf("\t%d of %d", a.FailedBySeverity[sv], a.BySeverity[sv])
		}
		fmt.Fprintln(tw, row)
	}
	return tw.Flush()
}

// findingKey names a finding across two audits.
type findingKey struct{ check, resource string }

// writeChanged prints the findings whose status the fixes changed (or
// that are new, or gone), the status before beside the status after.
func writeChanged(w io.Writer, before, after *awsguard.Report) error {
	rows := changed(before, after)
	if len(rows) == 0 {
		_, err := fmt.Fprintln(w, "  (none)")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "BEFORE\tAFTER\tSEVERITY\tCHECK\tRESOURCE")
	for _, r := range rows {
		res := shortResource(r.resource, 36)
		if r.n > 1 {
			res = shortResource(r.resource, 30) + fmt.Sprintf(" (x%d)", r.n)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.before, r.after, r.severity, r.check, res)
	}
	return tw.Flush()
}

type changeRow struct {
	findingKey
	severity      awsguard.Severity
	before, after string
	n             int // findings alike (one check reports several on one resource)
}

// changed lists the findings whose status differs between the two
// audits, in after's order, then those only before had ("none" stands
// for a status a side does not have); findings alike count in one row.
func changed(before, after *awsguard.Report) []changeRow {
	var rows []changeRow
	at := map[changeRow]int{}
	for _, r := range changes(before, after) {
		if quiet(r.before) && quiet(r.after) {
			continue // not applicable, then gone (or the other way): nothing to read
		}
		if i, ok := at[r]; ok {
			rows[i].n++
			continue
		}
		at[r] = len(rows)
		r.n = 1
		rows = append(rows, r)
	}
	return rows
}

func quiet(status string) bool {
	return status == "none" || status == string(awsguard.StatusNotApplicable)
}

func changes(before, after *awsguard.Report) []changeRow {
	was := map[findingKey]awsguard.Finding{}
	for _, f := range before.Findings {
		was[findingKey{f.Check, f.Resource}] = f
	}
	seen := map[findingKey]bool{}
	var rows []changeRow
	for _, f := range after.Findings {
		k := findingKey{f.Check, f.Resource}
		seen[k] = true
		b, ok := was[k]
		if ok && b.Status == f.Status {
			continue
		}
		from := "none"
		if ok {
			from = string(b.Status)
		}
		rows = append(rows, changeRow{findingKey: k, severity: f.Severity, before: from, after: string(f.Status)})
	}
	for _, f := range before.Findings {
		if k := (findingKey{f.Check, f.Resource}); !seen[k] {
			rows = append(rows, changeRow{findingKey: k, severity: f.Severity, before: string(f.Status), after: "none"})
		}
	}
	return rows
}

// shortResource shows an ARN by its resource part, cut from the left to
// n runes ("..." marks the cut).
func shortResource(s string, n int) string {
	if parts := strings.SplitN(s, ":", 6); len(parts) == 6 && parts[0] == "arn" {
		s = parts[5]
	}
	if r := []rune(s); len(r) > n {
		return "..." + string(r[len(r)-n+3:])
	}
	return s
}
