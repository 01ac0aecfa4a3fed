package main

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// termProgress draws one live line on a terminal: done/total, rate, ETA and
// failures. It redraws at most every 100 ms.
type termProgress struct {
	w      io.Writer
	mu     sync.Mutex
	total  int
	done   int
	failed int
	start  time.Time
	last   time.Time
}

func newTermProgress(w io.Writer) *termProgress { return &termProgress{w: w} }

func (p *termProgress) Start(total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total, p.start = total, time.Now()
	p.draw()
}

func (p *termProgress) Done(_ string, failed bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	if failed {
		p.failed++
	}
	if time.Since(p.last) >= 100*time.Millisecond {
		p.draw()
	}
}

func (p *termProgress) Finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.draw()
	fmt.Fprintln(p.w)
}

func (p *termProgress) draw() {
	p.last = time.Now()
	el := time.Since(p.start).Seconds()
	rate := 0.0
	if el > 0 {
		rate = float64(p.done) / el
	}
	eta := "--:--"
	if rate > 0 {
		s := int(float64(p.total-p.done) / rate)
		eta = fmt.Sprintf("%d:%02d", s/60, s%60)
	}
	fmt.Fprintf(p.w, "\rprobing %d/%d  %.0f videos/s  ETA %s  failed %d\x1b[K", p.done, p.total, rate, eta, p.failed)
}
