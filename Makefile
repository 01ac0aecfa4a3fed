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

.PHONY: all deps deps-aarch64 peer arm64-root slurm build build-aarch64 wheel wheel-test demo test vet fmt-check gotest unit fuzz bench golden allowlists clean

all: build

deps:
	@. scripts/deps.sh; dpkg -s $$APT_BUILD >/dev/null 2>&1 || { \
	  echo "installing build tools ($$APT_BUILD)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$APT_BUILD >/dev/null; }
	@scripts/ffmpeg.sh ensure

# The aarch64 build on x86_64: Debian's cross toolchain and qemu-user-static
# (APT_CROSS), and FFmpeg + dav1d + jemalloc cross-built once into their own
# versioned folder beside the native one.
deps-aarch64: deps
	@. scripts/deps.sh; dpkg -s $$APT_CROSS >/dev/null 2>&1 || { \
	  echo "installing the aarch64 cross toolchain and qemu ($$APT_CROSS)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$APT_CROSS >/dev/null; }
	@scripts/ffmpeg.sh ensure aarch64

peer:
	@scripts/peer.sh ensure

# A small Debian 12 arm64 root (python3-venv) run under qemu, for the aarch64
# wheel's install test.
arm64-root: deps-aarch64
	@scripts/arm64-root.sh ensure

# A single-node Slurm (root only) for the examples/slurm test.
slurm:
	@scripts/slurm.sh

build: deps
	$(CGOENV) $(GO) build -trimpath -o bin/vidcache ./cmd/vidcache

# bin/vidcache-aarch64: the same, cross-built for aarch64 (GOARCH=arm64,
# CC=aarch64-linux-gnu-gcc, the aarch64 prefix's pkg-config files).
build-aarch64: deps-aarch64
	GO="$(GO)" scripts/gobuild.sh aarch64 bin/vidcache-aarch64

# dist/vidcache-<version>-py3-none-manylinux_2_<glibc>_{x86_64,aarch64}.whl: the
# Python package (python/) with the static binary of each architecture, built
# offline with Debian's tools.
wheel: build build-aarch64
	scripts/wheel.sh bin/vidcache dist
	scripts/wheel.sh bin/vidcache-aarch64 dist

# The x86_64 wheel installed into a fresh venv in each peer (torch 2.14, 2.6,
# 1.13), and python/tests run there with each peer's unittest; the aarch64
# wheel installed into a venv in the arm64 root under qemu, its console script
# run there.
wheel-test: wheel peer arm64-root
	@v=$$(tr -d ' \n' < indexer/version.txt) s=0; \
	  scripts/wheel-test.sh dist/vidcache-$$v-py3-none-manylinux_*_x86_64.whl || s=1; \
	  scripts/wheel-test-aarch64.sh dist/vidcache-$$v-py3-none-manylinux_*_aarch64.whl dist/vidcache-$$v-py3-none-manylinux_*_x86_64.whl || s=1; \
	  exit $$s

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

# Every Go test, the peer comparisons and the aarch64 binary under qemu included.
gotest: deps build-aarch64
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
	$(CGOENV) $(GO) test -run '^$$' -fuzz '^FuzzAudit$$' $(call fuzztime,8000x) ./cachefmt/pickle
	$(GO) test -run '^$$' -fuzz '^FuzzZip$$' $(call fuzztime,50000x) ./cachefmt/torchfile
	$(GO) test -run '^$$' -fuzz '^FuzzReadTar$$' $(call fuzztime,50000x) ./cachefmt/torchfile
	$(CGOENV) $(GO) test -run '^$$' -fuzz '^FuzzNative$$' $(call fuzztime,5000x) ./decoder
	$(CGOENV) $(GO) test -run '^$$' -fuzz '^FuzzImport$$' $(call fuzztime,2000x) ./indexer
	@logs=$$(mktemp -d); \
	  echo "go test -fuzz '^FuzzProbe$$' $(call fuzztime,10000x) ./decoder  (workers' stderr in $$logs)"; \
	  $(CGOENV) VIDCACHE_FUZZ_STDERR=$$logs $(GO) test -run '^$$' -fuzz '^FuzzProbe$$' $(call fuzztime,10000x) ./decoder || { \
	    for f in $$logs/*.log; do [ -s "$$f" ] && { echo "== $$f"; head -c 20000 "$$f"; }; done; exit 1; }; \
	  rm -rf "$$logs"
	$(CGOENV) $(GO) test -race -count=1 -run '^FuzzProbe$$' ./decoder

test: deps deps-aarch64 peer arm64-root slurm fmt-check vet gotest fuzz wheel-test

bench: build peer
	/usr/bin/python3 bench/run.py

# Regenerate the clip-math golden tables from torchvision 0.21 (the Debian 13
# peer) and 0.27 (the sid peer).
golden: peer
	chroot "$$(scripts/peer.sh root trixie)" python3 - < cachefmt/torchpeer/scripts/clips_golden.py 2>/dev/null \
	  | grep -E '^(#|[0-9])' > cachefmt/clips/testdata/clips-golden.tsv
	chroot "$$(scripts/peer.sh root sid)" python3 - < cachefmt/torchpeer/scripts/clips_golden.py 2>/dev/null \
	  | grep -E '^(#|[0-9])' > cachefmt/clips/testdata/clips-golden-0.27.tsv

# Regenerate the weights_only allowlists that `vidcache audit` grades against.
allowlists: peer
	/usr/bin/python3 - < cachefmt/torchpeer/scripts/allowlist.py 2>/dev/null | grep -E '^(#|[a-z_])' > cachefmt/pickle/allowlist/torch1.13.txt
	chroot "$$(scripts/peer.sh root)" python3 - < cachefmt/torchpeer/scripts/allowlist.py 2>/dev/null \
	  | grep -E '^(#|[a-z_])' > cachefmt/pickle/allowlist/torch2.6.txt

clean:
	rm -rf bin dist
