package observe_test

import (
	"errors"
	"github.com/google/go-cmp/cmp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/awsguard/awsguard/internal/apicalls"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/internal/fault"
)

// mutating returns the calls of c that change something: all but the
// List, Get and Describe calls.
func mutating(c *apicalls.Counter) map[string]int {
	out := map[string]int{}
	for k, n := range c.Counts() {
		if strings.HasPrefix(k.Operation, "List") || strings.HasPrefix(k.Operation, "Get") || strings.HasPrefix(k.Operation, "Describe") {
			continue
		}
		out[k.String()] += n
	}
	return out
}

// counted returns the emulator's configuration with a call counter.
func counted(env *awstest.Env) (aws.Config, *apicalls.Counter) {
	c := apicalls.New()
	cfg := env.Config()
	cfg.APIOptions = append(cfg.APIOptions, c.APIOption)
	return cfg, c
}

// faulty returns the emulator's configuration with a fault injector.
func faulty(env *awstest.Env, rules ...fault.Rule) (aws.Config, *fault.Injector) {
	inj := fault.New(rules...)
	cfg := env.Config()
	cfg.APIOptions = append(cfg.APIOptions, inj.APIOption)
	return cfg, inj
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }

func cmpDiff(a, b any) string { return cmp.Diff(a, b) }

// shared is the emulator of the tests that need no empty account: they
// name their resources apart, so they skip the reset (which, with the
// emulator's slow first calls after it, costs seconds a test).
var shared *awstest.Env

// sharedEnv returns the emulator without resetting it (but the first
// time). Tests that read the whole account (Audit, Teardown) use
// awstest.New instead.
func sharedEnv(t *testing.T) *awstest.Env {
	t.Helper()
	if shared == nil {
		shared = awstest.New(t)
	}
	return shared
}
