package ec2recover_test

import (
	"testing"

	"github.com/awsguard/awsguard/internal/awstest"
)

// TestMain is the package's only TestMain: one moto_server per test binary.
func TestMain(m *testing.M) { awstest.Main(m) }
