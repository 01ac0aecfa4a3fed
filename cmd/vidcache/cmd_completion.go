package main

import (
	"context"
	"flag"
	"fmt"
	"sort"
	"strings"
)

func init() {
	register(command{name: "completion", summary: "print a shell completion script: completion bash|zsh|fish", run: runCompletion})
}

// commandFlags lists each command's flags, by running its flag setup on -h
// into a throwaway env (so the lists never drift from the commands).
func commandFlags() map[string][]string {
	out := map[string][]string{}
	for _, c := range commands {
		if c.name == "completion" {
			continue
		}
		var names []string
		seen := map[string]bool{}
		captured := &flagCapture{}
		e := &env{stdout: captured, stderr: captured, getenv: func(string) string { return "" }}
		capturing = func(fs *flag.FlagSet) {
			fs.VisitAll(func(f *flag.Flag) {
				if !seen[f.Name] {
					seen[f.Name] = true
					names = append(names, "--"+f.Name)
				}
			})
		}
		c.run(context.Background(), e, []string{"-h"})
		capturing = nil
		sort.Strings(names)
		out[c.name] = names
	}
	return out
}

// capturing, when set, receives each FlagSet as -h is parsed (commandFlags).
var capturing func(*flag.FlagSet)

type flagCapture struct{ strings.Builder }

func runCompletion(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "completion", "completion bash|zsh|fish")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErr("want one shell: bash, zsh or fish")
	}
	var names []string
	for _, c := range commands {
		names = append(names, c.name)
	}
	names = append(names, "help", "version")
	sort.Strings(names)
	flags := commandFlags()
	var cmds []string
	for c := range flags {
		cmds = append(cmds, c)
	}
	sort.Strings(cmds)
	switch pos[0] {
	case "bash":
		fmt.Fprintln(e.stdout, "# vidcache bash completion: eval \"$(vidcache completion bash)\"")
		fmt.Fprintln(e.stdout, "_vidcache() {")
		fmt.Fprintln(e.stdout, `  local cur=${COMP_WORDS[COMP_CWORD]} cmd=${COMP_WORDS[1]}`)
		fmt.Fprintf(e.stdout, "  if [ \"$COMP_CWORD\" -eq 1 ]; then COMPREPLY=($(compgen -W %q -- \"$cur\")); return; fi\n", strings.Join(names, " "))
		fmt.Fprintln(e.stdout, `  local flags=""`)
		fmt.Fprintln(e.stdout, `  case $cmd in`)
		for _, c := range cmds {
			fmt.Fprintf(e.stdout, "    %s) flags=%q ;;\n", c, strings.Join(flags[c], " "))
		}
		fmt.Fprintln(e.stdout, `  esac`)
		fmt.Fprintln(e.stdout, `  if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "$flags" -- "$cur")); else COMPREPLY=($(compgen -f -- "$cur")); fi`)
		fmt.Fprintln(e.stdout, "}")
		fmt.Fprintln(e.stdout, "complete -o filenames -F _vidcache vidcache")
	case "zsh":
		fmt.Fprintln(e.stdout, "#compdef vidcache")
		fmt.Fprintln(e.stdout, "# vidcache zsh completion: vidcache completion zsh > \"${fpath[1]}/_vidcache\"")
		fmt.Fprintln(e.stdout, "_vidcache() {")
		fmt.Fprintf(e.stdout, "  if (( CURRENT == 2 )); then compadd -- %s; return; fi\n", strings.Join(names, " "))
		fmt.Fprintln(e.stdout, `  case $words[2] in`)
		for _, c := range cmds {
			fmt.Fprintf(e.stdout, "    %s) compadd -- %s ;;\n", c, strings.Join(flags[c], " "))
		}
		fmt.Fprintln(e.stdout, `  esac`)
		fmt.Fprintln(e.stdout, `  _files`)
		fmt.Fprintln(e.stdout, "}")
		fmt.Fprintln(e.stdout, `compdef _vidcache vidcache`)
	case "fish":
		fmt.Fprintln(e.stdout, "# vidcache fish completion: vidcache completion fish > ~/.config/fish/completions/vidcache.fish")
		fmt.Fprintf(e.stdout, "complete -c vidcache -f -n __fish_use_subcommand -a %q\n", strings.Join(names, " "))
		for _, c := range cmds {
			for _, f := range flags[c] {
				fmt.Fprintf(e.stdout, "complete -c vidcache -n '__fish_seen_subcommand_from %s' -l %s\n", c, strings.TrimPrefix(f, "--"))
			}
		}
	default:
		return usageErr("unknown shell %q: want bash, zsh or fish", pos[0])
	}
	return nil
}
