package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// Exit codes, one table for every command; `vidcache help` prints it.
const (
	exitOK           = 0
	exitError        = 1   // the command failed (the message says why); audit: some file unsafe
	exitUsage        = 2   // bad usage, or an input file that cannot be read or is refused
	exitStale        = 3   // path, verify: the cache is missing or stale
	exitCorrupt      = 4   // verify: the file is damaged
	exitUnsafe       = 5   // verify: the file would run code when loaded
	exitFormat       = 6   // verify: not a vidcache cache, or an unknown format version
	exitInconsistent = 7   // verify: the cache contradicts itself
	exitInterrupt    = 130 // Ctrl-C or SIGTERM; finished work is kept
)

var exitTable = []struct {
	code    int
	meaning string
}{
	{exitOK, "success (verify: OK; audit: every file safe for torch 2.x)"},
	{exitError, "failure, with a message (audit: some file unsafe)"},
	{exitUsage, "bad usage, or an input that cannot be read or is refused"},
	{exitStale, "path, verify: the cache is missing or stale"},
	{exitCorrupt, "verify: the file is damaged"},
	{exitUnsafe, "verify: the file would run code when loaded"},
	{exitFormat, "verify: not a vidcache cache, or an unknown format version"},
	{exitInconsistent, "verify: the cache contradicts itself"},
	{exitInterrupt, "interrupted (Ctrl-C, SIGTERM); finished work is kept in the index"},
}

// env is what a command may touch of the outside world; tests fill it in.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	stderrIsTTY    bool
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

var commands []command

func register(c command) { commands = append(commands, c) }

// silentExit ends a command with an exit code and nothing more to say (the
// command has printed its result).
type silentExit int

func (silentExit) Error() string { return "" }

// exitCodeError carries a specific exit code out of a command, with its message.
type exitCodeError struct {
	code int
	err  error
}

func (e *exitCodeError) Error() string { return e.err.Error() }
func (e *exitCodeError) Unwrap() error { return e.err }

func withCode(code int, err error) error { return &exitCodeError{code, err} }

func usageErr(format string, a ...any) error {
	return withCode(exitUsage, fmt.Errorf(format, a...))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv, stderrIsTTY: isTerminal(stderr)}
	return runWith(ctx, e, args)
}

func runWith(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(e.stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	if args[0] == "version" || args[0] == "--version" {
		fmt.Fprintln(e.stdout, "vidcache", toolVersion())
		return exitOK
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, e, args[1:])
		if err == nil {
			return exitOK
		}
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		var ce *exitCodeError
		var se silentExit
		code := exitError
		if errors.As(err, &ce) {
			code = ce.code
		} else if errors.As(err, &se) {
			code = int(se)
		}
		if ctx.Err() != nil && errors.Is(err, context.Canceled) {
			fmt.Fprintln(e.stderr, "vidcache: interrupted; finished work is kept in the index")
			return exitInterrupt
		}
		if msg := err.Error(); msg != "" {
			fmt.Fprintf(e.stderr, "vidcache %s: %s\n", c.name, msg)
		}
		return code
	}
	fmt.Fprintf(e.stderr, "vidcache: unknown command %q\n\n", args[0])
	usage(e.stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: vidcache COMMAND [options] [args]")
	fmt.Fprintln(w, "\ncommands:")
	cs := append([]command(nil), commands...)
	sort.Slice(cs, func(i, j int) bool { return cs[i].name < cs[j].name })
	for _, c := range cs {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'vidcache COMMAND -h' for a command's options.")
	fmt.Fprintln(w, "\nexit codes:")
	for _, x := range exitTable {
		fmt.Fprintf(w, "  %-4d %s\n", x.code, x.meaning)
	}
}

// newFlags makes a FlagSet that reports errors instead of exiting.
func newFlags(e *env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: vidcache %s\n\noptions:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseArgs parses flags that may come before, between or after positional
// arguments ("vidcache build /data --frame-rate 15"); "--" ends the flags.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, silentExit(exitUsage) // flag printed the problem
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// parseOne parses flags and exactly one positional argument, named what.
func parseOne(fs *flag.FlagSet, args []string, what string) (string, error) {
	pos, err := parseArgs(fs, args)
	if err != nil {
		return "", err
	}
	if len(pos) != 1 {
		fs.Usage()
		return "", usageErr("want exactly one %s, got %d arguments", what, len(pos))
	}
	return pos[0], nil
}

func logger(e *env, quiet, verbose bool) *slog.Logger {
	level := slog.LevelWarn
	if quiet {
		level = slog.LevelError
	}
	if verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
