package indexer

import (
	"fmt"
	"strings"
)

// Errors a setting would resolve name it the way the library spells its
// options — as the configuration's fields (split, allow_empty, out,
// cache_dir) — never as a command-line flag: a program using the library
// has none. Each is an Explainer, which such a program renders with its own
// spelling (cmd/vidcache shows the flags).

// Explainer is an error whose message names options. Explain renders the
// message with each option spelled by name; a name of "" leaves out the
// phrase that would name it.
type Explainer interface {
	error
	Explain(name func(option string) string) string
}

// optionName spells an option in the library's own messages: as the
// configuration's field. The index's place (option "index"), which
// OpenIndex takes as its argument and no option sets, goes unnamed.
func optionName(option string) string {
	if option == "index" {
		return ""
	}
	return option
}

// with is " with A or B", the options spelled by name; "" when name spells
// none of them.
func with(name func(string) string, options ...string) string {
	var ns []string
	for _, o := range options {
		if n := name(o); n != "" {
			ns = append(ns, n)
		}
	}
	if len(ns) == 0 {
		return ""
	}
	return " with " + strings.Join(ns, " or ")
}

// EmptyError: the split holds no video with the configured extensions, and
// the build does not allow an empty cache (allow_empty). It is ErrEmpty.
type EmptyError struct {
	Dir        string // the split's folder
	Extensions []string
}

func (e *EmptyError) Error() string { return e.Explain(optionName) }

func (e *EmptyError) Unwrap() error { return ErrEmpty }

// Explain names the option allow_empty.
func (e *EmptyError) Explain(name func(string) string) string {
	msg := fmt.Sprintf("%v with extension %s in %s: nothing to cache", ErrEmpty, strings.Join(e.Extensions, " or "), e.Dir)
	if n := name("allow_empty"); n != "" {
		msg += " (" + n + " writes an empty cache anyway)"
	}
	return msg
}

// IndexFSError: the index cannot be used on the file system that holds it.
// Either SQLite could not open it on a shared file system (Err says why), or
// (Journal set) it is in another journal mode than its file system needs
// and could not be switched while other processes use it. The remedy is an
// index on a local disk; caches can stay where they are.
type IndexFSError struct {
	Path string
	FS   FileSystem
	Err  error
	// Journal is the journal mode the index is in, Want the one its file
	// system needs, when it could not be switched.
	Journal, Want string
}

func (e *IndexFSError) Error() string { return e.Explain(optionName) }

func (e *IndexFSError) Unwrap() error { return e.Err }

// Explain names the options index (the index's place), out and cache_dir.
func (e *IndexFSError) Explain(name func(string) string) string {
	local := "put the index on a local disk" + with(name, "index")
	if e.Journal != "" {
		return fmt.Sprintf("open index %s on %s: it is in %s mode and could not be switched to %s while other processes use it (%v): stop them, or %s",
			e.Path, e.FS, e.Journal, e.Want, e.Err, local)
	}
	return fmt.Sprintf("open index %s on %s: %v (SQLite may not work on this file system: %s; caches can stay on the share%s)",
		e.Path, e.FS, e.Err, local, with(name, "out", "cache_dir"))
}
