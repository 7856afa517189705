package main

import (
	"os"
	"testing"

	"github.com/linedesk/linedesk/store/storetest"
)

func TestMain(m *testing.M) {
	code := storetest.Main(m)
	if binaryDir != "" { // the linedesk binary the stack tests built
		_ = os.RemoveAll(binaryDir)
	}
	os.Exit(code)
}
