module github.com/vidcache/vidcache

go 1.26.8

require (
	github.com/Eyevinn/mp4ff v0.56.0
	github.com/asticode/go-astiav v0.43.0
	github.com/hanwen/go-fuse/v2 v2.9.0
	github.com/mattn/go-sqlite3 v1.14.53
	github.com/nlpodyssey/gopickle v0.2.0
	golang.org/x/sync v0.25.0
)

require (
	github.com/asticode/go-astikit v0.42.0 // indirect
	golang.org/x/sys v0.28.0 // indirect
)
