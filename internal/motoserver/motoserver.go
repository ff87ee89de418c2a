// Package motoserver starts, resets and stops moto_server, the AWS emulator,
// on a free loopback port. The test harness (internal/awstest) and the demo
// use it.
//
// The server runs as a child of the current process that the kernel kills
// when this process dies (on Linux, through the parent-death signal), so no
// server outlives its starter even when that panics or is killed; Stop ends
// it gracefully before that.
package motoserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// InstallHint tells a person how to get moto.
const InstallHint = `moto_server not found: install the AWS emulator with "pip install 'moto[server]'" (or put moto_server on PATH, or set MOTO_SERVER to its path)`

// ErrNotFound is returned by Start when no moto_server can be found.
var ErrNotFound = errors.New(InstallHint)

// Env is the server environment MOTO.md recommends: managed policies
// loaded, ACM certificates issued after one second, key pair and AMI
// validation on.
var Env = []string{
	"MOTO_IAM_LOAD_MANAGED_POLICIES=true",
	"MOTO_ACM_VALIDATION_WAIT=1",
	"MOTO_ENABLE_KEYPAIR_VALIDATION=true",
	"MOTO_ENABLE_AMI_VALIDATION=true",
}

// Server is a running moto_server.
type Server struct {
	// URL is the server's base address, such as http://127.0.0.1:40123.
	URL string

	cmd    *exec.Cmd
	done   chan struct{} // closed when the process has exited
	log    *bytes.Buffer
	logMu  sync.Mutex
	stopMu sync.Once
}

// Find returns the command that runs moto_server: $MOTO_SERVER if set, else
// moto_server on PATH.
func Find() ([]string, error) {
	name := "moto_server"
	if p := os.Getenv("MOTO_SERVER"); p != "" {
		name = p
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return nil, fmt.Errorf("%w (%v)", ErrNotFound, err)
	}
	return []string{p}, nil
}

// Start starts moto_server on a free loopback port with Env plus extraEnv
// and waits until it answers, bounded by ctx.
func Start(ctx context.Context, extraEnv ...string) (*Server, error) {
	argv, err := Find()
	if err != nil {
		return nil, err
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s, err := start(ctx, argv, port, extraEnv)
		if err == nil {
			return s, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("motoserver: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func start(ctx context.Context, argv []string, port int, extraEnv []string) (*Server, error) {
	s := &Server{URL: "http://127.0.0.1:" + strconv.Itoa(port), done: make(chan struct{}), log: &bytes.Buffer{}}
	args := append(argv[1:], "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd := exec.Command(argv[0], args...)
	cmd.Env = append(append(os.Environ(), Env...), extraEnv...)
	cmd.Stdout = logWriter{s}
	cmd.Stderr = logWriter{s}
	cmd.SysProcAttr = sysProcAttr()
	cmd.Dir = os.TempDir()
	s.cmd = cmd

	// The parent-death signal belongs to the thread that forked the child:
	// fork from a thread that stays locked, and alive, until the child exits.
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			close(s.done)
			return
		}
		started <- nil
		_ = cmd.Wait()
		close(s.done)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("motoserver: start %s: %w", filepath.Base(argv[0]), err)
	}
	if err := s.waitReady(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

type logWriter struct{ s *Server }

func (w logWriter) Write(p []byte) (int, error) {
	w.s.logMu.Lock()
	defer w.s.logMu.Unlock()
	if w.s.log.Len() < 1<<20 { // keep the first MiB: enough to diagnose a failed start
		w.s.log.Write(p)
	}
	return len(p), nil
}

// Log returns what the server has printed so far (the first MiB).
func (s *Server) Log() string {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return s.log.String()
}

func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	delay := 20 * time.Millisecond
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/moto-api/", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.done:
			return fmt.Errorf("motoserver: server exited before answering: %s", lastLines(s.Log(), 5))
		case <-ctx.Done():
			return fmt.Errorf("motoserver: server at %s did not answer: %w", s.URL, ctx.Err())
		case <-time.After(delay):
		}
		delay = min(delay*2, 250*time.Millisecond)
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// Reset wipes all state: every account and region.
func (s *Server) Reset(ctx context.Context) error {
	return s.post(ctx, "/moto-api/reset", "", "")
}

// EnforceAuth turns authentication and authorization checks on (every
// request must be signed with an access key that exists in the emulated
// IAM) or off.
func (s *Server) EnforceAuth(ctx context.Context, on bool) error {
	body := "inf"
	if on {
		body = "0"
	}
	return s.post(ctx, "/moto-api/reset-auth", "text/plain", body)
}

// Post sends body to a moto-api path, for the emulator's control endpoints
// (for example queuing Inspector2 findings).
func (s *Server) Post(ctx context.Context, path, contentType, body string) error {
	return s.post(ctx, path, contentType, body)
}

func (s *Server) post(ctx context.Context, path, contentType, body string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+path, strings.NewReader(body))
	if err != nil {
		return err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("motoserver: POST %s: %w", path, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("motoserver: POST %s: %s: %s", path, resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}

// Pid returns the server's process ID.
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Done is closed when the server process has exited.
func (s *Server) Done() <-chan struct{} { return s.done }

// Stop ends the server and waits for it to exit: an interrupt first, a kill
// after two seconds. It is safe to call more than once.
func (s *Server) Stop() {
	s.stopMu.Do(func() {
		if s.cmd.Process == nil {
			return
		}
		select {
		case <-s.done:
			return
		default:
		}
		terminate(s.cmd)
		select {
		case <-s.done:
		case <-time.After(2 * time.Second):
			kill(s.cmd)
			<-s.done
		}
	})
}
