package dnsserver

import (
	"os"
	"testing"

	"github.com/s3dns/s3dns/internal/dnstest"
)

func TestMain(m *testing.M) { os.Exit(dnstest.RunTests(m)) }
