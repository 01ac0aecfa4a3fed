package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"runtime/pprof"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/vidcache/vidcache/cachefmt"

	"github.com/vidcache/vidcache/cachefmt/clips"
	"github.com/vidcache/vidcache/cachefmt/vocab"

	"github.com/vidcache/vidcache/indexer"
)

func init() {
	register(command{name: "build", summary: "index a dataset split and write its cache", run: runBuildCmd})
}

// datasetFlags are the options naming a dataset split and a clip
// configuration; they are shared by every command that finds a cache.
type datasetFlags struct {
	split         string
	extensions    listValue
	framesPerClip int
	step          int
	frameRate     rateValue
	mode          vocab.Mode
	target        vocab.Target
	db            *string
	out           string
	rootAs        string
	rehash        bool
	trustImported bool
	fs            *flag.FlagSet // where they were parsed (set reads it)
}

// set reports whether any of the named flags was given on the command line.
func (d *datasetFlags) set(names ...string) bool {
	found := false
	d.fs.Visit(func(f *flag.Flag) {
		if slices.Contains(names, f.Name) {
			found = true
		}
	})
	return found
}

func (d *datasetFlags) register(fs *flag.FlagSet) {
	d.fs = fs
	fs.StringVar(&d.split, "split", cachefmt.DefaultSplit, "split folder under ROOT")
	d.extensions = listValue(cachefmt.DefaultExtensions)
	fs.Var(&d.extensions, "extensions", "comma-separated file extensions, matched case-insensitively as torchvision does")
	fs.IntVar(&d.framesPerClip, "frames-per-clip", 16, "frames in each clip")
	fs.IntVar(&d.step, "step-between-clips", 1, "frames between the starts of consecutive clips")
	fs.Var(&d.frameRate, "frame-rate", "resample videos to this rate (e.g. 15, 7.5, 30000/1001); unset: native")
	d.target = vocab.TargetTorchvision
	fs.Var(&d.target, "target", "the torchvision the cache is for: torchvision (0.26 and later: torchcodec, frame indices) or torchvision-pyav (0.25 and earlier: PyAV timestamps)")
	fs.Var(&d.mode, "mode", "with --target torchvision-pyav: fast (demux only, the default) or exact (decode where torchvision decodes); the torchvision target has one way, torchcodec's packet scan")
	d.db = dbFlag(fs)
	fs.StringVar(&d.out, "out", "", "cache file (default: a name derived from the dataset and options under $VIDCACHE_HOME/caches)")
	fs.StringVar(&d.rootAs, "root-as", "", "paths in the cache have ROOT replaced by this prefix (the dataset's path on training nodes)")
	fs.BoolVar(&d.rehash, "rehash", false, "decide what changed by content hash, not mtime (for file systems with unreliable mtimes; reads every file)")
	fs.BoolVar(&d.trustImported, "trust-imported", false, "take timestamps that `import` read from a torchvision cache file as probe results instead of probing those videos")
}

// options turns the flags into build options: the configuration, checked
// and completed by cachefmt.Config.Normalize (the one place for defaults and
// validation), and the index and cache folder from $VIDCACHE_HOME.
func (d *datasetFlags) options(e *env, root string) (indexer.BuildOptions, error) {
	o := indexer.BuildOptions{
		Config: cachefmt.Config{
			Root: root, Split: d.split, Extensions: []string(d.extensions),
			Spec:   clips.Spec{FramesPerClip: d.framesPerClip, StepBetweenClips: d.step, FrameRate: d.frameRate.rate},
			Target: d.target, Mode: d.mode, RootAs: d.rootAs,
		},
		Out:           d.out,
		Rehash:        d.rehash,
		TrustImported: d.trustImported,
	}
	if err := o.Config.Normalize(); err != nil {
		return o, configErr(err)
	}
	h, err := dirs(e)
	if err != nil {
		return o, err
	}
	o.CacheDir = h.Caches
	return o, nil
}

// The flag.Value types of the dataset flags: each parses its text once,
// straight into the value the configuration holds.

// rateValue is --frame-rate: unset (native), or a positive rate.
type rateValue struct{ rate *float64 }

func (r *rateValue) String() string {
	if r == nil || r.rate == nil {
		return ""
	}
	return strconv.FormatFloat(*r.rate, 'g', -1, 64)
}

func (r *rateValue) Set(s string) error {
	v, err := parseRate(s)
	if err != nil {
		return err
	}
	r.rate = &v
	return nil
}

// listValue is a comma-separated list (--extensions); blanks are dropped.
type listValue []string

func (l *listValue) String() string { return strings.Join(*l, ",") }

func (l *listValue) Set(s string) error { *l = splitList(s); return nil }

// parseRate reads "15", "7.5" or "30000/1001".
func parseRate(s string) (float64, error) {
	var v float64
	if num, den, ok := strings.Cut(s, "/"); ok {
		n, err1 := strconv.ParseFloat(num, 64)
		d, err2 := strconv.ParseFloat(den, 64)
		if err1 != nil || err2 != nil || d == 0 {
			return 0, fmt.Errorf("%q is not a rate", s)
		}
		v = n / d
	} else {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a rate", s)
		}
		v = f
	}
	if !(v > 0) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not a positive rate", s)
	}
	return v, nil
}

type buildFlags struct {
	datasetFlags
	probeFlags
	logFormat   string
	allowEmpty  bool
	json        *bool
	quiet       bool
	verbose     bool
	createdUnix int64
	strict      bool
	shard       string
	shardEnv    string
	cpuprofile  string
	memprofile  string
}

func runBuildCmd(ctx context.Context, e *env, args []string) error {
	var f buildFlags
	fs := newFlags(e, "build", "build [options] ROOT")
	f.datasetFlags.register(fs)
	f.probeFlags.register(fs, "")
	fs.StringVar(&f.logFormat, "log-format", "text", "warnings and --verbose logs on stderr: text (for people) or json (one object a line)")
	fs.BoolVar(&f.allowEmpty, "allow-empty", false, "write a cache even when the split holds no video with the extensions (otherwise exit 1)")
	f.json = jsonFlag(fs, "one JSON object")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress, no summary, only errors")
	fs.BoolVar(&f.verbose, "verbose", false, "log more")
	fs.Int64Var(&f.createdUnix, "created-unix", 0, "created_unix to store (default: now; for reproducible files)")
	fs.StringVar(&f.shard, "shard", "", "I/N: probe only shard I of N into its own index (no cache); with --shard-index-env just N")
	fs.StringVar(&f.shardEnv, "shard-index-env", "", "read the shard index I from this environment variable (SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX)")
	fs.StringVar(&f.cpuprofile, "cpuprofile", "", "write a CPU profile of the build to this `FILE` (for go tool pprof)")
	fs.StringVar(&f.memprofile, "memprofile", "", "write a heap profile (live and allocated) at the end of the build to this `FILE`")
	fs.BoolVar(&f.strict, "strict", false, "exit 1 when any video failed (the cache is still written)")
	root, err := parseOne(fs, args, "ROOT")
	if err != nil {
		return err
	}
	if f.cpuprofile != "" {
		pf, err := os.Create(f.cpuprofile)
		if err != nil {
			return err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	opts, err := f.options(e, root)
	if err != nil {
		return err
	}
	res, err := runBuild(ctx, e, &f, opts)
	if err != nil {
		return err
	}
	if f.memprofile != "" {
		if err := writeHeapProfile(f.memprofile); err != nil {
			return err
		}
	}
	if err := reportBuild(e, &f, res); err != nil {
		return err
	}
	if f.strict && res.Failed > 0 {
		return fmt.Errorf("--strict: %d of %d videos failed", res.Failed, res.Videos)
	}
	return nil
}

// runBuild builds with the configuration already resolved from the flags
// and the rest of the build flags.
func runBuild(ctx context.Context, e *env, f *buildFlags, opts indexer.BuildOptions) (*indexer.BuildResult, error) {
	var err error
	if f.shard != "" || f.shardEnv != "" {
		if opts.Shard, opts.Shards, err = parseShard(e, f.shard, f.shardEnv); err != nil {
			return nil, err
		}
		if *f.db == "" {
			h, _ := dirs(e)
			*f.db = h.Shard(opts.Shard, opts.Shards)
		}
	}
	opts.CreatedUnix = f.createdUnix
	if f.logFormat != "text" && f.logFormat != "json" {
		return nil, usageErr("--log-format %q: want text or json", f.logFormat)
	}
	opts.AllowEmpty = f.allowEmpty
	return buildIn(ctx, e, *f.db, opts, buildOutput{quiet: f.quiet, verbose: f.verbose, json: *f.json, logFormat: f.logFormat}, f.probeFlags)
}

// buildOutput is how a build talks to the user: logs, progress, --json.
type buildOutput struct {
	quiet, verbose, json bool
	logFormat            string // text or json
}

// buildIn builds opts in the index at db (the default when empty), with
// the probing flags and the output settings of the command that asked:
// build, or path --ensure.
func buildIn(ctx context.Context, e *env, db string, opts indexer.BuildOptions, out buildOutput, p probeFlags) (*indexer.BuildResult, error) {
	opts.Jobs, opts.Timeout = p.jobs, p.timeout
	opts.Log = logger(e, out.quiet, out.verbose, out.logFormat)
	if e.stderrIsTTY && !out.quiet && !out.json {
		opts.Progress = newTermProgress(e.stderr)
	}
	ix, err := openIndex(ctx, e, db)
	if err != nil {
		return nil, err
	}
	defer ix.Close()
	return indexer.Build(ctx, ix, opts)
}

// parseShard reads --shard I/N, or N with the index from an environment variable.
func parseShard(e *env, spec, envName string) (int, int, error) {
	is, ns, hasSlash := strings.Cut(spec, "/")
	if !hasSlash {
		is, ns = "", spec
	}
	if envName != "" {
		if is != "" {
			return 0, 0, usageErr("--shard %q: give only N (or /N) with --shard-index-env", spec)
		}
		if is = e.getenv(envName); is == "" {
			return 0, 0, usageErr("--shard-index-env: $%s is not set", envName)
		}
	}
	i, err1 := strconv.Atoi(strings.TrimSpace(is))
	n, err2 := strconv.Atoi(strings.TrimSpace(ns))
	if err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return 0, 0, usageErr("shard %q of %q: want 0 <= I < N", is, ns)
	}
	return i, n, nil
}

func reportBuild(e *env, f *buildFlags, res *indexer.BuildResult) error {
	if *f.json {
		return writeJSON(e.stdout, res)
	}
	if res.Cache == "" { // a shard: the index is the product
		fmt.Fprintln(e.stdout, res.DB)
		if !f.quiet {
			fmt.Fprintf(e.stderr, "shard: %d videos: %d probed, %d reused, %d failed (%.2fs)\n", res.Videos, res.Probed, res.Reused, res.Failed, res.Seconds)
		}
		return nil
	}
	fmt.Fprintln(e.stdout, res.Cache)
	if f.quiet {
		return nil
	}
	state := "written"
	if !res.Written {
		state = "unchanged"
	}
	fmt.Fprintf(e.stderr, "%d videos in %d classes: %d probed, %d reused, %d failed; %d frames, %d clips; cache %s (%.2fs)\n",
		res.Videos, res.Classes, res.Probed, res.Reused, res.Failed, res.Frames, res.Clips, state, res.Seconds)
	if f.verbose && res.Probed > 0 {
		fmt.Fprintf(e.stderr, "read %s of %s probed (%.1f%%); %d of %d probes header-only; %d from the MP4 sample tables, %d by FFmpeg\n",
			humanSize(res.BytesRead), humanSize(res.BytesProbed), 100*float64(res.BytesRead)/float64(max(res.BytesProbed, 1)), res.HeaderOnly, res.Probed,
			res.Native, res.FFmpeg)
	}
	if res.Failed > 0 {
		var classes []string
		for k, v := range res.Failures {
			classes = append(classes, fmt.Sprintf("%s %d", k, v))
		}
		sort.Strings(classes)
		fmt.Fprintf(e.stderr, "failed: %s\n", strings.Join(classes, ", "))
		listFailed(e, res.FailedAt, f.verbose, "", "--json")
	}
	return nil
}

// writeHeapProfile writes the heap profile (in-use and allocated since the
// start) for `go tool pprof -sample_index=alloc_space`.
func writeHeapProfile(path string) error {
	pf, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("memprofile: %w", err)
	}
	if err := pprof.Lookup("allocs").WriteTo(pf, 0); err != nil {
		pf.Close()
		return fmt.Errorf("memprofile %s: %w", path, err)
	}
	return pf.Close()
}
