// Command slowfs mounts a read-only passthrough of SRC at MNT that adds a
// fixed delay to every read request — the bench's high-latency store,
// standing in for a network share or an object-store mount. Lookups,
// opens and attributes are not delayed; each READ the kernel sends (its
// page cache and readahead work as for any FUSE file system) waits
// -delay before it is served, concurrently with the others.
//
//	slowfs -delay 2ms SRC MNT    # prints "ready" once mounted; unmounts on SIGTERM/SIGINT
//
// It mounts with mount(2) directly (root, /dev/fuse; no fusermount).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

var delay time.Duration

// slowNode is a loopback node whose reads wait delay first.
type slowNode struct{ fs.LoopbackNode }

var _ = (fs.NodeReader)((*slowNode)(nil))

func (n *slowNode) Read(ctx context.Context, f fs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	time.Sleep(delay)
	return f.(fs.FileReader).Read(ctx, dest, off)
}

func main() {
	flag.DurationVar(&delay, "delay", 2*time.Millisecond, "added to every read request")
	flag.Parse()
	if flag.NArg() != 2 {
		log.Fatal("usage: slowfs [-delay D] SRC MNT")
	}
	src, mnt := flag.Arg(0), flag.Arg(1)
	var st syscall.Stat_t
	if err := syscall.Stat(src, &st); err != nil {
		log.Fatal(err)
	}
	root := &fs.LoopbackRoot{Path: src, Dev: uint64(st.Dev)}
	root.NewNode = func(r *fs.LoopbackRoot, parent *fs.Inode, name string, st *syscall.Stat_t) fs.InodeEmbedder {
		return &slowNode{fs.LoopbackNode{RootData: r}}
	}
	root.RootNode = root.NewNode(root, nil, "", &st)
	server, err := fs.Mount(mnt, root.RootNode, &fs.Options{MountOptions: fuse.MountOptions{
		DirectMount: true, AllowOther: true, FsName: "slowfs", Name: "slowfs", Options: []string{"ro"}, MaxBackground: 64,
	}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("ready")
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() { <-sig; server.Unmount() }()
	server.Wait()
}
