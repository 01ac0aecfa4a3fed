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
	"sync"
	"syscall"

	"github.com/vidcache/vidcache/cachefmt"
	"github.com/vidcache/vidcache/indexer"
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

// configErr is a usage error for a configuration the library refused. A
// cachefmt.OptionError in it names the option; explain shows its flag, as
// for every indexer.Explainer.
func configErr(err error) error { return withCode(exitUsage, err) }

// flagName spells an option the library names (in a cachefmt.OptionError
// or an indexer.Explainer) as what sets it on the command line: its flag
// (split: --split, allow_empty: --allow-empty), or for the index's place,
// --db or $VIDCACHE_HOME.
func flagName(option string) string {
	if option == "index" {
		return "--db or $VIDCACHE_HOME"
	}
	return "--" + strings.ReplaceAll(option, "_", "-")
}

// cachefmt.OptionError is one of the errors explain renders.
var _ indexer.Explainer = (*cachefmt.OptionError)(nil)

// explain is err's message for the command line: where a library error
// names options (an indexer.Explainer), it names their flags instead.
func explain(err error) string {
	msg := err.Error()
	var x indexer.Explainer
	if errors.As(err, &x) {
		msg = strings.Replace(msg, x.Error(), x.Explain(flagName), 1)
	}
	return msg
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
		var de *indexer.DatasetError
		code := exitError
		switch {
		case errors.As(err, &ce):
			code = ce.code
		case errors.As(err, &se):
			code = int(se)
		case errors.As(err, &de):
			code = exitUsage // the dataset root cannot be read
		}
		if ctx.Err() != nil && errors.Is(err, context.Canceled) {
			fmt.Fprintln(e.stderr, "vidcache: interrupted; finished work is kept in the index")
			return exitInterrupt
		}
		if msg := explain(err); msg != "" {
			fmt.Fprintf(e.stderr, "vidcache %s: %s\n", c.name, msg)
		}
		return code
	}
	fmt.Fprintf(e.stderr, "vidcache: unknown command %q", args[0])
	if s := suggest(args[0]); s != "" {
		fmt.Fprintf(e.stderr, "; did you mean %q?", s)
	}
	fmt.Fprintln(e.stderr, "\nsee 'vidcache help'")
	return exitUsage
}

// suggest is the command closest to name (edit distance at most 2, or name
// is a prefix of just one), or "".
func suggest(name string) string {
	best, bestD := "", 3
	var prefixed []string
	for _, c := range append(commandNames(), "version", "help") {
		if strings.HasPrefix(c, name) {
			prefixed = append(prefixed, c)
		}
		if d := editDistance(name, c); d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" && len(prefixed) == 1 {
		return prefixed[0]
	}
	return best
}

func commandNames() []string {
	var out []string
	for _, c := range commands {
		out = append(out, c.name)
	}
	return out
}

// editDistance is the Damerau-Levenshtein distance (adjacent swaps count 1).
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: vidcache COMMAND [options] [args]")
	fmt.Fprintln(w, "\ncommands:")
	cs := append([]command(nil), commands...)
	sort.Slice(cs, func(i, j int) bool { return cs[i].name < cs[j].name })
	cs = append(cs, command{name: "version", summary: "print vidcache's version and the FFmpeg it links"})
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

// newFlags makes a FlagSet that reports errors instead of exiting. A bad
// flag gets its one-line error and a pointer to -h, not the whole usage
// (which buries the error); -h prints the whole usage on stdout.
func newFlags(e *env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	// The flag package calls Usage for -h too: the pointer to -h is
	// printed by parseArgs, for errors only.
	fs.Usage = func() {}
	seeHelp[fs] = func() { fmt.Fprintf(e.stderr, "see 'vidcache %s -h'\n", name) }
	helps[fs] = func() {
		fmt.Fprintf(e.stdout, "usage: vidcache %s\n\noptions:\n", synopsis)
		fs.SetOutput(e.stdout)
		fs.PrintDefaults()
		fs.SetOutput(e.stderr)
	}
	return fs
}

// helps holds each FlagSet's full usage, printed for -h; seeHelp its
// one-line pointer to -h, printed after an error.
var helps, seeHelp = map[*flag.FlagSet]func(){}, map[*flag.FlagSet]func(){}

// parseArgs parses flags that may come before, between or after positional
// arguments ("vidcache build /data --frame-rate 15"); "--" ends the flags.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if capturing != nil {
			capturing(fs)
			return nil, flag.ErrHelp
		}
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				if h := helps[fs]; h != nil {
					h()
				}
				return nil, err
			}
			if see := seeHelp[fs]; see != nil {
				see()
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
		if see := seeHelp[fs]; see != nil {
			see()
		}
		return "", usageErr("want exactly one %s, got %d arguments", what, len(pos))
	}
	return pos[0], nil
}

// logger logs to stderr: "vidcache: warning: ..." lines for people, or
// with format "json" one JSON object a line for machines.
func logger(e *env, quiet, verbose bool, format string) *slog.Logger {
	level := slog.LevelInfo // notes such as "waiting for ..." and warnings
	if quiet {
		level = slog.LevelError
	}
	if verbose {
		level = slog.LevelDebug
	}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(e.stderr, &slog.HandlerOptions{Level: level}))
	}
	return slog.New(&humanHandler{w: e.stderr, level: level, mu: &sync.Mutex{}})
}

// humanHandler writes "vidcache: LEVEL: message key=value ..." lines.
type humanHandler struct {
	w     io.Writer
	level slog.Level
	attrs []slog.Attr
	mu    *sync.Mutex
}

func (h *humanHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

func (h *humanHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString("vidcache: ")
	switch {
	case r.Level >= slog.LevelError:
		b.WriteString("error: ")
	case r.Level >= slog.LevelWarn:
		b.WriteString("warning: ")
	case r.Level < slog.LevelInfo:
		b.WriteString("debug: ")
	}
	b.WriteString(r.Message)
	add := func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	b.WriteByte('\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, b.String())
	return err
}

func (h *humanHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), as...)
	return &c
}

func (h *humanHandler) WithGroup(string) slog.Handler { return h }

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
