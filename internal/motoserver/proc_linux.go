package motoserver

import (
	"os/exec"
	"syscall"
)

// sysProcAttr puts the server in its own process group and has the kernel
// kill it when the thread that started it (locked for the server's life)
// dies, which is when this process dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

func terminate(cmd *exec.Cmd) { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGINT) }

func kill(cmd *exec.Cmd) { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
