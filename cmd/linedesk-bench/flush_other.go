//go:build !unix

package main

// flushDisk is a no-op where the system has no sync(2); the bench's figures are for Linux.
func flushDisk() {}
