package iamguard_test

import (
	"testing"

	"github.com/awsguard/awsguard/internal/awstest"
)

func TestMain(m *testing.M) { awstest.Main(m) }
