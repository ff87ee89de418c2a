package iamguard_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/awsguard/awsguard/iamguard"
	"github.com/awsguard/awsguard/internal/apicalls"
	"github.com/awsguard/awsguard/internal/awstest"
)

// BenchmarkEnsureGroupIdle measures the idempotent run (nothing to do)
// of EnsureGroup with two policies and three members, in time and in API
// calls.
func BenchmarkEnsureGroupIdle(b *testing.B) {
	ctx := context.Background()
	env := awstest.New(b)
	cfg := env.Config()
	calls := apicalls.New()
	cfg.APIOptions = append(cfg.APIOptions, calls.APIOption)
	api := iam.NewFromConfig(cfg)
	g := iamguard.Group{Name: "dev"}
	for _, u := range []string{"a", "b", "c"} {
		if _, err := api.CreateUser(ctx, &iam.CreateUserInput{UserName: &u}); err != nil {
			b.Fatal(err)
		}
		g.Members = append(g.Members, u)
	}
	if _, err := iamguard.EnsureGroup(ctx, api, g); err != nil {
		b.Fatal(err)
	}
	calls.Reset()
	b.ResetTimer()
	for b.Loop() {
		p, err := iamguard.EnsureGroup(ctx, api, g)
		if err != nil || !p.NothingToDo() {
			b.Fatalf("%v %v", p, err)
		}
	}
	b.ReportMetric(float64(calls.Total())/float64(b.N), "calls/op")
}

// BenchmarkEnforceMFAIdle: the idempotent run of EnforceMFA on two
// groups.
func BenchmarkEnforceMFAIdle(b *testing.B) {
	ctx := context.Background()
	env := awstest.New(b)
	cfg := env.Config()
	calls := apicalls.New()
	cfg.APIOptions = append(cfg.APIOptions, calls.APIOption)
	api := iam.NewFromConfig(cfg)
	for _, g := range []string{"dev", "ops"} {
		if _, err := iamguard.EnsureGroup(ctx, api, iamguard.Group{Name: g}); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := iamguard.EnforceMFA(ctx, api, []string{"dev", "ops"}); err != nil {
		b.Fatal(err)
	}
	calls.Reset()
	b.ResetTimer()
	for b.Loop() {
		if _, err := iamguard.EnforceMFA(ctx, api, []string{"dev", "ops"}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(calls.Total())/float64(b.N), "calls/op")
}
