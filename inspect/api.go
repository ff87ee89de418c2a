package inspect

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/inspector2"
)

// NetworkAPI is the part of *ec2.Client that AuditNetwork calls. It doubles
// as the list of IAM permissions the audit needs: ec2:DescribeInstances,
// ec2:DescribeNetworkInterfaces, ec2:DescribeSecurityGroups,
// ec2:DescribeNetworkAcls, ec2:DescribeRouteTables,
// ec2:DescribeInternetGateways, ec2:DescribeManagedPrefixLists and
// ec2:GetManagedPrefixListEntries.
type NetworkAPI interface {
	DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
	DescribeNetworkInterfaces(ctx context.Context, in *ec2.DescribeNetworkInterfacesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeNetworkInterfacesOutput, error)
	DescribeSecurityGroups(ctx context.Context, in *ec2.DescribeSecurityGroupsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error)
	DescribeNetworkAcls(ctx context.Context, in *ec2.DescribeNetworkAclsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeNetworkAclsOutput, error)
	DescribeRouteTables(ctx context.Context, in *ec2.DescribeRouteTablesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeRouteTablesOutput, error)
	DescribeInternetGateways(ctx context.Context, in *ec2.DescribeInternetGatewaysInput, optFns ...func(*ec2.Options)) (*ec2.DescribeInternetGatewaysOutput, error)
	DescribeManagedPrefixLists(ctx context.Context, in *ec2.DescribeManagedPrefixListsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeManagedPrefixListsOutput, error)
	GetManagedPrefixListEntries(ctx context.Context, in *ec2.GetManagedPrefixListEntriesInput, optFns ...func(*ec2.Options)) (*ec2.GetManagedPrefixListEntriesOutput, error)
}

// ExposureAPI is the part of *ec2.Client that CloseExposure and
// RestoreExposure call: ec2:DescribeInstances, ec2:DescribeSecurityGroups,
// ec2:DescribeManagedPrefixLists, ec2:GetManagedPrefixListEntries (to read
// the live rules), ec2:CreateTags and ec2:DeleteTags (the record of a
// revoked rule), ec2:AuthorizeSecurityGroupIngress and
// ec2:RevokeSecurityGroupIngress.
type ExposureAPI interface {
	DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
	DescribeSecurityGroups(ctx context.Context, in *ec2.DescribeSecurityGroupsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error)
	DescribeManagedPrefixLists(ctx context.Context, in *ec2.DescribeManagedPrefixListsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeManagedPrefixListsOutput, error)
	GetManagedPrefixListEntries(ctx context.Context, in *ec2.GetManagedPrefixListEntriesInput, optFns ...func(*ec2.Options)) (*ec2.GetManagedPrefixListEntriesOutput, error)
	CreateTags(ctx context.Context, in *ec2.CreateTagsInput, optFns ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error)
	DeleteTags(ctx context.Context, in *ec2.DeleteTagsInput, optFns ...func(*ec2.Options)) (*ec2.DeleteTagsOutput, error)
	AuthorizeSecurityGroupIngress(ctx context.Context, in *ec2.AuthorizeSecurityGroupIngressInput, optFns ...func(*ec2.Options)) (*ec2.AuthorizeSecurityGroupIngressOutput, error)
	RevokeSecurityGroupIngress(ctx context.Context, in *ec2.RevokeSecurityGroupIngressInput, optFns ...func(*ec2.Options)) (*ec2.RevokeSecurityGroupIngressOutput, error)
}

// StatusAPI is the part of *inspector2.Client that Status calls:
// inspector2:BatchGetAccountStatus.
type StatusAPI interface {
	BatchGetAccountStatus(ctx context.Context, in *inspector2.BatchGetAccountStatusInput, optFns ...func(*inspector2.Options)) (*inspector2.BatchGetAccountStatusOutput, error)
}

// EnableAPI is the part of *inspector2.Client that Enable calls:
// inspector2:BatchGetAccountStatus and inspector2:Enable.
type EnableAPI interface {
	StatusAPI
	Enable(ctx context.Context, in *inspector2.EnableInput, optFns ...func(*inspector2.Options)) (*inspector2.EnableOutput, error)
}

// DisableAPI is the part of *inspector2.Client that Disable calls:
// inspector2:BatchGetAccountStatus and inspector2:Disable.
type DisableAPI interface {
	StatusAPI
	Disable(ctx context.Context, in *inspector2.DisableInput, optFns ...func(*inspector2.Options)) (*inspector2.DisableOutput, error)
}

// FindingsAPI is the part of *inspector2.Client that Findings calls:
// inspector2:ListFindings.
type FindingsAPI interface {
	ListFindings(ctx context.Context, in *inspector2.ListFindingsInput, optFns ...func(*inspector2.Options)) (*inspector2.ListFindingsOutput, error)
}

var (
	_ NetworkAPI  = (*ec2.Client)(nil)
	_ ExposureAPI = (*ec2.Client)(nil)
	_ StatusAPI   = (*inspector2.Client)(nil)
	_ EnableAPI   = (*inspector2.Client)(nil)
	_ DisableAPI  = (*inspector2.Client)(nil)
	_ FindingsAPI = (*inspector2.Client)(nil)
)
