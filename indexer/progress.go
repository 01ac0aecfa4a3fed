package indexer

// Progress receives a build's probing progress. The library only reports;
// the CLI decides whether and how to draw it.
type Progress interface {
	Start(total int)               // total videos to probe
	Done(path string, failed bool) // one video probed
	Finish()
}

type nopProgress struct{}

func (nopProgress) Start(int)         {}
func (nopProgress) Done(string, bool) {}
func (nopProgress) Finish()           {}
