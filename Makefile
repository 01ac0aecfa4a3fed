# vidcache — see README.md. Every target sets up what it needs.
#
#   make demo    build everything, index the bundled sample dataset, show the cache
#   make test    every test, against the real torchvision peers
#   make unit    the Go tests without the peers, in seconds
#   make bench   the side-by-side benchmark (see bench/)

SHELL := /bin/bash
GO ?= go
export PATH := $(PATH):/usr/local/go/bin

# FFmpeg 9.0 + dav1d come from scripts/ffmpeg.sh (its own static build outside
# the repo). Evaluated per recipe, after `deps` has run.
CGOENV = PKG_CONFIG_PATH="$$(scripts/ffmpeg.sh env)$${PKG_CONFIG_PATH:+:$$PKG_CONFIG_PATH}" PKG_CONFIG="pkg-config --static" CGO_ENABLED=1

DEMO_HOME ?= $(or $(TMPDIR),/tmp)/vidcache-demo

.PHONY: all deps peer slurm build wheel wheel-test demo test vet fmt-check gotest unit fuzz bench golden allowlists clean

all: build

deps:
	@. scripts/deps.sh; dpkg -s $$APT_BUILD >/dev/null 2>&1 || { \
	  echo "installing build tools ($$APT_BUILD)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$APT_BUILD >/dev/null; }
	@scripts/ffmpeg.sh ensure

peer:
	@scripts/peer.sh ensure

# A single-node Slurm (root only) for the examples/slurm test.
slurm:
	@scripts/slurm.sh

build: deps
	$(CGOENV) $(GO) build -trimpath -o bin/vidcache ./cmd/vidcache

# dist/vidcache-<version>-py3-none-manylinux_2_<glibc>_<arch>.whl: the Python
# package (python/) with the static binary, built offline with Debian's tools.
wheel: build
	scripts/wheel.sh bin/vidcache dist

# The wheel installed into a fresh venv in each peer (torch 2.14, 2.6, 1.13), and
# python/tests run there with each peer's unittest.
wheel-test: wheel peer
	scripts/wheel-test.sh dist/vidcache-$$(tr -d ' \n' < indexer/version.txt)-py3-none-*.whl

demo: build
	@rm -rf "$(DEMO_HOME)"
	@echo "== vidcache build testdata/sample  (VIDCACHE_HOME=$(DEMO_HOME))"
	@VIDCACHE_HOME="$(DEMO_HOME)" bin/vidcache build testdata/sample --frame-rate 15 > "$(DEMO_HOME).path"
	@echo "== vidcache inspect $$(cat "$(DEMO_HOME).path")"
	@VIDCACHE_HOME="$(DEMO_HOME)" bin/vidcache inspect "$$(cat "$(DEMO_HOME).path")"
	@echo "== load it in a training job:"
	@echo "   Kinetics('$(CURDIR)/testdata/sample', frames_per_clip=16, frame_rate=15,"
	@echo "            _precomputed_metadata=torch.load('$$(cat "$(DEMO_HOME).path")', weights_only=True))"

vet: deps
	$(CGOENV) $(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# Every Go test, the peer comparisons included.
gotest: deps
	$(CGOENV) $(GO) test -count=1 -timeout 20m ./...

# The Go tests without the peers (-short skips them, and the 600 MB size
# test), for contributors: no peers needed, about a minute.
unit: deps
	$(CGOENV) $(GO) test -short -count=1 ./...

# Fuzz budgets are execution counts (about 10 s each on 2 cores), not
# durations: Go 1.26's fuzz coordinator can report its own -fuzztime deadline
# as "context deadline exceeded", a failure without a crasher
# (golang/go#75804, fixed in Go 1.27). FUZZTIME=1m (or =50000x) overrides.
fuzztime = -fuzztime $(or $(FUZZTIME),$(1)) -fuzzminimizetime 200x

fuzz: deps
	$(CGOENV) $(GO) test -run '^$$' -fuzz '^FuzzPickleRoundTrip$$' $(call fuzztime,8000x) ./cachefmt
	$(CGOENV) $(GO) test -run '^$$' -fuzz '^FuzzInspect$$' $(call fuzztime,8000x) ./cachefmt
	$(CGOENV) $(GO) test -run '^$$' -fuzz '^FuzzAudit$$' $(call fuzztime,8000x) ./cachefmt
	$(CGOENV) $(GO) test -run '^$$' -fuzz '^FuzzImport$$' $(call fuzztime,2000x) ./indexer
	@logs=$$(mktemp -d); \
	  echo "go test -fuzz '^FuzzProbe$$' $(call fuzztime,10000x) ./decoder  (workers' stderr in $$logs)"; \
	  $(CGOENV) VIDCACHE_FUZZ_STDERR=$$logs $(GO) test -run '^$$' -fuzz '^FuzzProbe$$' $(call fuzztime,10000x) ./decoder || { \
	    for f in $$logs/*.log; do [ -s "$$f" ] && { echo "== $$f"; head -c 20000 "$$f"; }; done; exit 1; }; \
	  rm -rf "$$logs"
	$(CGOENV) $(GO) test -race -count=1 -run '^FuzzProbe$$' ./decoder

test: deps peer slurm fmt-check vet gotest fuzz wheel-test

bench: build peer
	/usr/bin/python3 bench/run.py

# Regenerate the clip-math golden tables from torchvision 0.21 (the Debian 13
# peer) and 0.27 (the sid peer).
golden: peer
	chroot "$$(scripts/peer.sh root trixie)" python3 - < cachefmt/torchpeer/scripts/clips_golden.py 2>/dev/null \
	  | grep -E '^(#|[0-9])' > indexer/clips/testdata/clips-golden.tsv
	chroot "$$(scripts/peer.sh root sid)" python3 - < cachefmt/torchpeer/scripts/clips_golden.py 2>/dev/null \
	  | grep -E '^(#|[0-9])' > indexer/clips/testdata/clips-golden-0.27.tsv

# Regenerate the weights_only allowlists that `vidcache audit` grades against.
allowlists: peer
	/usr/bin/python3 - < cachefmt/torchpeer/scripts/allowlist.py 2>/dev/null | grep -E '^(#|[a-z_])' > cachefmt/allowlist/torch1.13.txt
	chroot "$$(scripts/peer.sh root)" python3 - < cachefmt/torchpeer/scripts/allowlist.py 2>/dev/null \
	  | grep -E '^(#|[a-z_])' > cachefmt/allowlist/torch2.6.txt

clean:
	rm -rf bin dist
