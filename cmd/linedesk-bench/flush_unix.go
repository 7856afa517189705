//go:build unix

package main

import "syscall"

// flushDisk asks the kernel to write every dirty page out and waits for it.
func flushDisk() { syscall.Sync() }
