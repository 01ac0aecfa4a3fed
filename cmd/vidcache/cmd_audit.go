package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/vidcache/vidcache/cachefmt/pickle"
)

func init() {
	register(command{name: "audit", summary: "list what any .pt/pickle would import, and whether torch's weights_only loader accepts it", run: runAudit})
}

// auditResult is one file's entry in `audit --json`.
type auditResult struct {
	*pickle.AuditReport
	File  string `json:"file"`
	Error string `json:"error,omitempty"`
}

// runAudit exits 0 when every file is safe under torch 2.x's default
// weights_only allowlist, 1 when some file is not, 2 when some file cannot be
// read. The torch 1.13 verdict is reported too.
func runAudit(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "audit", "audit [--json] FILE...")
	asJSON := jsonFlag(fs, "a JSON array, one object per file")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageErr("want at least one FILE")
	}
	var results []auditResult
	code := exitOK
	var b strings.Builder
	for _, p := range pos {
		if err := ctx.Err(); err != nil {
			return err
		}
		r, err := pickle.AuditContext(ctx, p)
		if err != nil && ctx.Err() != nil {
			return ctx.Err()
		}
		res := auditResult{AuditReport: r, File: p}
		if err != nil {
			res.Error = err.Error()
			if r == nil || !r.Unsafe() {
				// Unreadable, and nothing read so far is unsafe.
				code = exitUsage
				fmt.Fprintf(&b, "%s: %v\n", p, err)
				results = append(results, res)
				continue
			}
			// What was read before the damage already runs code.
			fmt.Fprintf(&b, "%s: %v (what precedes it was scanned)\n", p, err)
		}
		if !r.SafeFor(pickle.Torch2) && code != exitUsage {
			code = exitError
		}
		var vs []string
		for _, v := range r.Verdicts {
			if v.Safe {
				vs = append(vs, "safe for "+v.Torch)
			} else {
				vs = append(vs, fmt.Sprintf("UNSAFE for %s (%s)", v.Torch, v.Why()))
			}
		}
		fmt.Fprintf(&b, "%s: %s, %d pickle(s): %s\n", p, r.Kind, r.Pickles, strings.Join(vs, ", "))
		for _, g := range r.Globals {
			fmt.Fprintf(&b, "  %s %s  (%s, offset %d)\n", g.Op, g.Global, g.Entry, g.Offset)
		}
		for _, s := range r.Incomplete {
			fmt.Fprintf(&b, "  not fully scanned: %s\n", s)
		}
		results = append(results, res)
	}
	if *asJSON {
		if err := writeJSON(e.stdout, results); err != nil {
			return err
		}
	} else {
		fmt.Fprint(e.stdout, b.String())
	}
	if code != exitOK {
		return silentExit(code)
	}
	return nil
}
