package keyspace

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// The probe of a paced job. A PING every 2 ms costs Redis a few
// microseconds each (well under 1% of its time) and gives the controller
// 50 round trips to judge every tenth of a second. The idle baseline takes
// 150 of them before the work starts.
const (
	probeInterval = 2 * time.Millisecond
	idleWindow    = 300 * time.Millisecond
)

// pacer paces the work on one master: a probe PINGs the master on its own
// connection (a client with a pool of one, so the probe never waits behind
// the job's commands in go-redis) and feeds every round trip to a
// Controller, whose pace the job reads after each round.
type pacer struct {
	budget time.Duration
	client *redis.Client

	mu   sync.Mutex
	ctl  *Controller
	idle time.Duration
	work latencies

	start  time.Time
	cancel context.CancelFunc
	done   chan struct{}
}

// startPacer measures the idle p99 of the server at opt, then probes it
// until finish. It fails only when the server does not answer a PING.
func startPacer(ctx context.Context, opt *redis.Options, budget time.Duration, pace Pace) (*pacer, error) {
	o := *opt
	o.PoolSize, o.MinIdleConns, o.MaxIdleConns, o.MaxRetries = 1, 0, 1, -1
	p := &pacer{budget: budget, client: redis.NewClient(&o), done: make(chan struct{})}
	if err := p.client.Ping(ctx).Err(); err != nil { // dials: not a sample
		p.client.Close()
		return nil, fmt.Errorf("probe %s: %w", opt.Addr, err)
	}
	var idle latencies
	tick := time.NewTicker(probeInterval)
	defer tick.Stop()
	for end := time.Now().Add(idleWindow); time.Now().Before(end); {
		select {
		case <-ctx.Done():
			p.client.Close()
			return nil, ctx.Err()
		case <-tick.C:
			idle.add(p.ping(ctx))
		}
	}
	p.idle = idle.p99()
	p.ctl = NewController(budget, p.idle, idle.quantile(50), pace)
	p.start = time.Now()
	pctx, cancel := context.WithCancel(ctx)
	p.cancel = cancel
	go p.run(pctx)
	return p, nil
}

// ping is one probe round trip; a failed one counts as the time it took.
func (p *pacer) ping(ctx context.Context) time.Duration {
	start := time.Now()
	_ = p.client.Ping(ctx).Err()
	return time.Since(start)
}

func (p *pacer) run(ctx context.Context) {
	defer close(p.done)
	tick := time.NewTicker(probeInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		rtt := p.ping(ctx)
		if ctx.Err() != nil {
			return // a PING cut short by the end of the job says nothing
		}
		p.mu.Lock()
		p.work.add(rtt)
		p.ctl.Observe(rtt)
		p.mu.Unlock()
	}
}

// pace is the pace to work at now. A nil pacer keeps cfg's.
func (p *pacer) pace(cfg Pace) Pace {
	if p == nil {
		return cfg
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ctl.Pace()
}

// learn tells the controller of one command the job ran: Controller.Scanned
// or Controller.Unlinked. A nil pacer ignores it.
func (p *pacer) learn(tell func(*Controller)) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	tell(p.ctl)
}

// finish stops the probe and says what it saw.
func (p *pacer) finish() Impact {
	p.cancel()
	<-p.done
	p.client.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	obs := p.work.p99()
	return Impact{
		Budget: p.budget, IdleP99: p.idle, ObservedP99: obs, AddedP99: max(obs-p.idle, 0),
		Adjustments: p.ctl.Adjustments(), Probes: p.work.n, Slowest: p.ctl.Slowest(), Final: p.ctl.Pace(),
		work: time.Since(p.start),
	}
}

// impacts gathers the Impact of every master a job paced.
type impacts struct {
	mu  sync.Mutex
	all *Impact
}

func (s *impacts) add(i Impact) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.all == nil {
		s.all = &i
		return
	}
	m := s.all.merge(i)
	s.all = &m
}

// result is the merged Impact with its rate over keys; nil when nothing was paced.
func (s *impacts) result(keys int64) *Impact {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.all == nil {
		return nil
	}
	r := s.all.withRate(keys)
	return &r
}
