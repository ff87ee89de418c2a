package inspect_test

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/inspector2"
	i2types "github.com/aws/aws-sdk-go-v2/service/inspector2/types"

	"github.com/awsguard/awsguard/inspect"
)

// pagedFindings is an inspect.FindingsAPI that answers, as Inspector can,
// an empty first page that still carries a NextToken, then a page of two
// findings.
type pagedFindings struct{}

func (pagedFindings) ListFindings(_ context.Context, in *inspector2.ListFindingsInput, _ ...func(*inspector2.Options)) (*inspector2.ListFindingsOutput, error) {
	if in.NextToken == nil {
		return &inspector2.ListFindingsOutput{NextToken: aws.String("page-2")}, nil
	}
	return &inspector2.ListFindingsOutput{Findings: []i2types.Finding{
		{Title: aws.String("CVE-2024-6387 - openssh"), Severity: i2types.SeverityCritical},
		{Title: aws.String("CVE-2023-38545 - curl"), Severity: i2types.SeverityHigh},
	}}, nil
}

// Findings ranges over Inspector's findings page by page, following empty
// pages that still carry a NextToken. (A fake stands in for AWS.)
func ExampleFindings() {
	filter := inspect.FindingFilter{Severities: []i2types.Severity{i2types.SeverityCritical, i2types.SeverityHigh}}
	for f, err := range inspect.Findings(context.Background(), pagedFindings{}, filter) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(f.Severity, aws.ToString(f.Title))
	}
	// Output:
	// CRITICAL CVE-2024-6387 - openssh
	// HIGH CVE-2023-38545 - curl
}
