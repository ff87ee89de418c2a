package waf_test

import (
	"context"
	"errors"
	"testing"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/waf"
)

// Outside input never panics: it is refused with an InputError before any
// call, or accepted.
func FuzzAttachInput(f *testing.F) {
	f.Add(fakeALB, "awsguard-sqli", "Version_1.0", "SQLi_BODY", "count")
	f.Add("arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/x/y", "a b", "", "", "")
	f.Fuzz(func(t *testing.T, alb, name, version, rule, action string) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // nothing may be called past validation
		f := &fakeWAF{}
		_, err := waf.AttachSQLiACL(ctx, waf.AttachAPI{WAF: f, ELB: &fakeELB{}}, alb, func(o *waf.Options) {
			o.Name = name
			if version != "" {
				o.Versions = map[string]string{waf.RuleGroupSQLi: version}
			}
			if rule != "" {
				o.RuleOverrides = []waf.RuleOverride{{Group: waf.RuleGroupSQLi, Rule: rule, Action: waf.RuleAction(action)}}
			}
		})
		var ie *awsguard.InputError
		if errors.As(err, &ie) && len(f.calls) != 0 {
			t.Errorf("refused input after calls %v", f.calls)
		}
	})
}

func FuzzHTTPSInput(f *testing.F) {
	f.Add(fakeALB, "www.example.com", "Z123", "ELBSecurityPolicy-TLS13-1-2-2021-06")
	f.Add(fakeALB, "*.example.com", "/hostedzone/Z1", "")
	f.Fuzz(func(t *testing.T, alb, domain, zone, policy string) {
		_, err := waf.EnableHTTPS(context.Background(), waf.HTTPSAPI{}, alb, domain, zone, func(o *waf.HTTPSOptions) { o.SSLPolicy = policy })
		if !errors.Is(err, awsguard.ErrInvalidInput) {
			t.Errorf("nil clients accepted: %v", err)
		}
	})
}

func FuzzProbeInput(f *testing.F) {
	f.Add("http://127.0.0.1:1/login", "User-Agent", "' OR '1'='1")
	f.Fuzz(func(t *testing.T, url, header, value string) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, _ = waf.Probe(ctx, url, func(o *waf.ProbeOptions) {
			o.Header = header
			o.Payloads = []waf.Payload{{Name: "p", Value: value, Attack: true}}
		})
	})
}
