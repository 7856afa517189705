package main

import (
	"os"
	"testing"

	"github.com/linedesk/linedesk/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }
