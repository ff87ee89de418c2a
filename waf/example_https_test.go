package waf_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/awsguard/awsguard/waf"
)

// errNoChange is what the dry-run fakes answer to a change, which a dry
// run never asks for.
var errNoChange = errors.New("a dry run changes nothing")

// plainACM is a waf.ACMAPI for an account without certificates.
type plainACM struct{}

func (plainACM) ListCertificates(context.Context, *acm.ListCertificatesInput, ...func(*acm.Options)) (*acm.ListCertificatesOutput, error) {
	return &acm.ListCertificatesOutput{}, nil
}

func (plainACM) DescribeCertificate(context.Context, *acm.DescribeCertificateInput, ...func(*acm.Options)) (*acm.DescribeCertificateOutput, error) {
	return nil, errNoChange
}

func (plainACM) ListTagsForCertificate(context.Context, *acm.ListTagsForCertificateInput, ...func(*acm.Options)) (*acm.ListTagsForCertificateOutput, error) {
	return nil, errNoChange
}

func (plainACM) RequestCertificate(context.Context, *acm.RequestCertificateInput, ...func(*acm.Options)) (*acm.RequestCertificateOutput, error) {
	return nil, errNoChange
}

func (plainACM) DeleteCertificate(context.Context, *acm.DeleteCertificateInput, ...func(*acm.Options)) (*acm.DeleteCertificateOutput, error) {
	return nil, errNoChange
}

// plainELB is a waf.ListenerAPI for an ALB with only an HTTP:80 listener
// forwarding to a target group.
type plainELB struct{}

func (plainELB) DescribeLoadBalancers(_ context.Context, in *elbv2.DescribeLoadBalancersInput, _ ...func(*elbv2.Options)) (*elbv2.DescribeLoadBalancersOutput, error) {
	return &elbv2.DescribeLoadBalancersOutput{LoadBalancers: []elbtypes.LoadBalancer{{LoadBalancerArn: aws.String(in.LoadBalancerArns[0]),
		LoadBalancerName: aws.String("web"), Type: elbtypes.LoadBalancerTypeEnumApplication,
		DNSName: aws.String("web-123456789.us-east-1.elb.amazonaws.com")}}}, nil
}

func (plainELB) DescribeListeners(_ context.Context, in *elbv2.DescribeListenersInput, _ ...func(*elbv2.Options)) (*elbv2.DescribeListenersOutput, error) {
	return &elbv2.DescribeListenersOutput{Listeners: []elbtypes.Listener{{
		ListenerArn: aws.String("arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/0123456789abcdef/1111111111111111"),
		Port:        aws.Int32(80), Protocol: elbtypes.ProtocolEnumHttp, LoadBalancerArn: in.LoadBalancerArn,
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward,
			TargetGroupArn: aws.String("arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/app/0123456789abcdef")}},
	}}}, nil
}

func (plainELB) DescribeTags(context.Context, *elbv2.DescribeTagsInput, ...func(*elbv2.Options)) (*elbv2.DescribeTagsOutput, error) {
	return &elbv2.DescribeTagsOutput{}, nil
}

func (plainELB) CreateListener(context.Context, *elbv2.CreateListenerInput, ...func(*elbv2.Options)) (*elbv2.CreateListenerOutput, error) {
	return nil, errNoChange
}

func (plainELB) ModifyListener(context.Context, *elbv2.ModifyListenerInput, ...func(*elbv2.Options)) (*elbv2.ModifyListenerOutput, error) {
	return nil, errNoChange
}

func (plainELB) DeleteListener(context.Context, *elbv2.DeleteListenerInput, ...func(*elbv2.Options)) (*elbv2.DeleteListenerOutput, error) {
	return nil, errNoChange
}

// plainZone is a waf.Route53API for the empty hosted zone example.com.
type plainZone struct{}

func (plainZone) GetHostedZone(_ context.Context, in *route53.GetHostedZoneInput, _ ...func(*route53.Options)) (*route53.GetHostedZoneOutput, error) {
	return &route53.GetHostedZoneOutput{HostedZone: &r53types.HostedZone{Id: in.Id, Name: aws.String("example.com.")}}, nil
}

func (plainZone) ListResourceRecordSets(context.Context, *route53.ListResourceRecordSetsInput, ...func(*route53.Options)) (*route53.ListResourceRecordSetsOutput, error) {
	return &route53.ListResourceRecordSetsOutput{}, nil
}

func (plainZone) ChangeResourceRecordSets(context.Context, *route53.ChangeResourceRecordSetsInput, ...func(*route53.Options)) (*route53.ChangeResourceRecordSetsOutput, error) {
	return nil, errNoChange
}

// EnableHTTPS planned first (DryRun) for an ALB that serves only plain
// HTTP: a certificate with DNS validation, its validation records, the
// HTTPS listener with a modern TLS policy, HTTP turned into a redirect,
// and the alias record. Nothing changes; an apply carries out these steps
// in this order. (Fakes stand in for ACM, Elastic Load Balancing and
// Route 53.)
func ExampleEnableHTTPS() {
	api := waf.HTTPSAPI{ACM: plainACM{}, ELB: plainELB{}, Route53: plainZone{}}
	alb := "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/0123456789abcdef"
	res, err := waf.EnableHTTPS(context.Background(), api, alb, "www.example.com", "Z0123456789ABC", func(o *waf.HTTPSOptions) {
		o.DryRun = true
		o.AliasRecord = true
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Plan.Reason, res.SSLPolicy)
	for _, line := range res.Plan.Describe() {
		fmt.Println(" ", line)
	}
	// Output:
	// dry run ELBSecurityPolicy-TLS13-1-2-2021-06
	//   request an ACM certificate for www.example.com with DNS validation
	//   upsert the certificate's DNS validation CNAME records in zone example.com
	//   wait for the certificate to be issued
	//   create the HTTPS:443 listener with policy ELBSecurityPolicy-TLS13-1-2-2021-06
	//   turn HTTP:80 into a 301 redirect to HTTPS
	//   upsert alias A www.example.com to web-123456789.us-east-1.elb.amazonaws.com
}
