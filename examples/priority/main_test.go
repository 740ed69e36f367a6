package main

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// When its output is not a terminal (a pipe, a file, CI's log), the demo
// prints plain lines: no carriage returns or ANSI codes for a progress line.
func TestPlainOutputWhenNotATerminal(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = w
	defer func() { os.Stdout = stdout }()
	out := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(r)
		out <- b
	}()
	os.Args = []string{"priority", "-background", "200", "-requests", "20"}
	main()
	w.Close()
	got := <-out
	if bytes.ContainsAny(got, "\r\033") {
		t.Fatalf("output to a pipe contains terminal control codes:\n%q", got)
	}
	if !strings.Contains(string(got), "Time from submit to start") {
		t.Fatalf("output to a pipe lacks the results:\n%s", got)
	}
}
