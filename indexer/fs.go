package indexer

import (
	"fmt"
	"syscall"
)

// The index on a shared file system.
//
// SQLite's write-ahead log keeps its readers and writers in step through a
// memory-mapped -shm file, which only works when every process shares one
// kernel's page cache: SQLite's documentation says WAL "does not work over
// a network filesystem", and two nodes writing one WAL index can corrupt it.
// Its rollback journal (journal_mode=DELETE) needs only POSIX advisory locks
// (fcntl), which NFS (through its lock manager), Lustre, GPFS, BeeGFS, CephFS
// and SMB carry between hosts. So OpenIndex asks the kernel which file system
// holds the index (statfs) and, on a network, cluster or FUSE file system,
// opens it with the rollback journal — converting an index left in WAL mode
// — instead of WAL. A FUSE mount that cannot hold a SQLite file at all (an
// object-store mount without random writes or locks) makes the open fail
// with an IndexFSError, whose remedy is an index on a local disk.

// sharedFS names the file systems on which the index takes the rollback
// journal, by their statfs magic numbers (linux/magic.h and the file
// systems' own sources).
var sharedFS = map[int64]string{
	0x6969:     "NFS",
	0x517B:     "SMB",
	0xFF534D42: "CIFS",
	0xFE534D42: "SMB2",
	0x65735546: "FUSE",
	0x00C36400: "CephFS",
	0x01021997: "9p",
	0x5346414F: "AFS",
	0x6B414653: "AFS",
	0x73757245: "Coda",
	0x01161970: "GFS2",
	0x7461636F: "OCFS2",
	0x0BD00BD0: "Lustre",
	0x47504653: "GPFS",
	0x19830326: "BeeGFS",
	0xAAD7AAEA: "PanFS",
	0x564C:     "NCP",
	0x20030528: "OrangeFS",
	0x013111A8: "IBRIX",
}

// FileSystem describes what holds a path.
type FileSystem struct {
	Name   string // "NFS", "FUSE", ... or "" for a local file system
	Magic  int64
	Shared bool // network, cluster or FUSE: the index uses the rollback journal
}

func (f FileSystem) String() string {
	if f.Name == "" {
		return fmt.Sprintf("a local file system (0x%x)", f.Magic)
	}
	return fmt.Sprintf("%s (0x%x)", f.Name, f.Magic)
}

// FileSystemOf reports the file system holding dir.
func FileSystemOf(dir string) (FileSystem, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return FileSystem{}, fmt.Errorf("statfs %s: %w", dir, err)
	}
	m := int64(uint32(st.Type))
	name := sharedFS[m]
	return FileSystem{Name: name, Magic: m, Shared: name != ""}, nil
}
