//go:build !linux

package motoserver

import (
	"os"
	"os/exec"
	"syscall"
)

// sysProcAttr has no parent-death signal outside Linux: there the server is
// stopped by Stop only.
func sysProcAttr() *syscall.SysProcAttr { return nil }

func terminate(cmd *exec.Cmd) { _ = cmd.Process.Signal(os.Interrupt) }

func kill(cmd *exec.Cmd) { _ = cmd.Process.Kill() }
