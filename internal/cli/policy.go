package cli

import (
	"context"
	"fmt"
	"path"
	"reflect"
	"slices"
	"strings"

	"github.com/awsguard/awsguard"
)

// servicePrefix maps an SDK service package (the last element of its
// import path, github.com/aws/aws-sdk-go-v2/service/NAME) to its IAM action
// prefix where the two differ.
var servicePrefix = map[string]string{
	"elasticloadbalancingv2": "elasticloadbalancing",
	"elasticloadbalancing":   "elasticloadbalancing",
	"cloudwatchlogs":         "logs",
	"eventbridge":            "events",
	"ec2instanceconnect":     "ec2-instance-connect",
	"configservice":          "config",
	"sfn":                    "states",
	"applicationautoscaling": "application-autoscaling",
}

// actionName maps SDK operations whose IAM action is named otherwise.
var actionName = map[string]string{
	"lambda:Invoke":     "lambda:InvokeFunction",
	"s3:ListObjectsV2":  "s3:ListBucket",
	"s3:HeadBucket":     "s3:ListBucket",
	"s3:HeadObject":     "s3:GetObject",
	"s3:ListObjects":    "s3:ListBucket",
	"s3:ListBuckets":    "s3:ListAllMyBuckets",
	"s3:DeleteObjects":  "s3:DeleteObject",
	"s3:GetBucketOwner": "s3:GetBucketOwnershipControls",
}

// NoPermission lists the calls that need no IAM permission and so are left
// out of Policy: sts:GetCallerIdentity works for every valid credential,
// even under an explicit Deny.
var NoPermission = []string{"sts:GetCallerIdentity"}

var ctxType = reflect.TypeFor[context.Context]()

// Actions returns the IAM actions that the methods of the interfaces
// need, sorted and without duplicates, NoPermission left out. Each method
// must have the SDK's shape, (ctx, *service.XInput, ...func(*service.Options)):
// its name is the action and the input type's package is the service
// (service/iam gives "iam", cloudwatchlogs "logs", elasticloadbalancingv2
// "elasticloadbalancing", eventbridge "events", ...).
func Actions(ifaces ...reflect.Type) ([]string, error) {
	var out []string
	for _, it := range ifaces {
		if it == nil || it.Kind() != reflect.Interface {
			return nil, fmt.Errorf("cli: policy: %v is not an interface type", it)
		}
		for i := range it.NumMethod() {
			m := it.Method(i)
			a, err := action(m)
			if err != nil {
				return nil, fmt.Errorf("cli: policy: %s.%s: %w", it, m.Name, err)
			}
			if !slices.Contains(NoPermission, a) {
				out = append(out, a)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func action(m reflect.Method) (string, error) {
	t := m.Type
	if t.NumIn() < 2 || t.In(0) != ctxType {
		return "", fmt.Errorf("want (context.Context, *service.Input, ...), got %s", t)
	}
	in := t.In(1)
	if in.Kind() == reflect.Pointer {
		in = in.Elem()
	}
	svc := servicePrefixOf(in.PkgPath())
	if svc == "" {
		return "", fmt.Errorf("input type %s is not from an SDK service package", in)
	}
	a := svc + ":" + m.Name
	if n, ok := actionName[a]; ok {
		a = n
	}
	return a, nil
}

// servicePrefixOf returns the IAM action prefix of the SDK service package
// at pkgPath, or "" when it is not one.
func servicePrefixOf(pkgPath string) string {
	dir, svc := path.Split(pkgPath)
	if !strings.HasSuffix(dir, "/service/") || svc == "" {
		return ""
	}
	if p, ok := servicePrefix[svc]; ok {
		return p
	}
	return svc
}

// Policy returns the identity policy that allows the actions the
// interfaces need (see Actions), on every resource: one Allow statement,
// named actions, no wildcard in them. Scope Resource down where the
// resources are known; the emulator the tests use checks actions only.
func Policy(ifaces ...reflect.Type) (*awsguard.PolicyDocument, error) {
	acts, err := Actions(ifaces...)
	if err != nil {
		return nil, err
	}
	if len(acts) == 0 {
		return nil, fmt.Errorf("cli: policy: the program declared no AWS call that needs a permission")
	}
	return &awsguard.PolicyDocument{
		Version: awsguard.PolicyVersion2012,
		Statement: awsguard.Statements{List: []awsguard.Statement{{
			Effect:   "Allow",
			Action:   awsguard.StringList(acts...),
			Resource: awsguard.StringValue("*"),
		}}},
	}, nil
}
