package observe

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/inspect"
	"github.com/cachectl/cachectl/internal/option"
	"github.com/cachectl/cachectl/keyspace"
)

// Sampling defaults. MONITOR costs Redis CPU for every command it relays,
// so it runs in short windows: 250 ms every 5 s watches 5% of the time
// (with the grace, 7%). MONITOR roughly doubles the CPU Redis spends per
// command while it runs, so on a server busy at 20% of a core the windows
// add about 20% × 7% ≈ 1.4% of a core, under the 2% budget; busier servers
// widen the period until the cost fits (see SampleConfig.Budget).
const (
	DefaultSampleWindow = 250 * time.Millisecond
	DefaultSamplePeriod = 5 * time.Second
	DefaultSampleGrace  = 100 * time.Millisecond
	DefaultSampleBudget = 0.02
	// DefaultSampleMaxPeriod bounds the widening of the period.
	DefaultSampleMaxPeriod = 2 * time.Minute
)

// SampleConfig configures Sample.
type SampleConfig struct {
	// Window is how long each window watches the commands; Period the time
	// from the start of one window to the start of the next.
	Window, Period time.Duration
	// Grace keeps reading after the window for the writes that follow the
	// window's last reads (an app building a response after a miss); only
	// the reads inside Window are counted.
	Grace time.Duration
	// Selection is the groups to count lookups for (Schema.Selection()).
	Selection keyspace.Selection
	// Budget is the Redis CPU the sampling may add, as a share of one core
	// averaged over the period; above it the period is widened (doubled, at
	// most MaxPeriod). 0 is DefaultSampleBudget.
	Budget float64
	// MaxPeriod bounds the widened period; 0 is DefaultSampleMaxPeriod.
	MaxPeriod time.Duration
	// Windows stops after that many windows; 0 runs until ctx ends.
	Windows int
	// OnWindow, when set, is called after every window with the report so far.
	OnWindow func(SampleReport)
	// Timeout bounds the wait for a window's markers; 5 s when 0.
	Timeout time.Duration
}

// Validate checks the ranges of the configuration (after defaults).
func (c SampleConfig) Validate() error {
	c.defaults()
	if err := option.InRange("sample-window", c.Window, 10*time.Millisecond, time.Minute); err != nil {
		return err
	}
	if c.Period < c.Window+c.Grace {
		return option.Errorf("sample period %s is shorter than its window and grace (%s)", c.Period, c.Window+c.Grace)
	}
	if c.Budget <= 0 || c.Budget > 1 {
		return option.Errorf("sample budget %g is not a share of one core in (0, 1]", c.Budget)
	}
	if len(c.Selection) == 0 {
		return option.Errorf("sampling needs at least one group")
	}
	return nil
}

func (c *SampleConfig) defaults() {
	option.Default(&c.Window, DefaultSampleWindow)
	option.Default(&c.Period, DefaultSamplePeriod)
	option.Default(&c.Grace, DefaultSampleGrace)
	option.DefaultZero(&c.Budget, DefaultSampleBudget)
	option.Default(&c.MaxPeriod, DefaultSampleMaxPeriod)
	c.MaxPeriod = max(c.MaxPeriod, c.Period)
	option.Default(&c.Timeout, 5*time.Second)
}

// GroupSample is what the windows saw of one group's lookups.
type GroupSample struct {
	Name string
	// Hits are reads (GET, GETEX, MGET members) that the same client did not
	// follow with a write of the key; Misses those it did.
	Hits, Misses int64
}

// Lookups is Hits + Misses.
func (g GroupSample) Lookups() int64 { return g.Hits + g.Misses }

// Ratio is the share of lookups found; ok is false without lookups.
func (g GroupSample) Ratio() (ratio float64, ok bool) {
	n := g.Lookups()
	if n == 0 {
		return 0, false
	}
	return float64(g.Hits) / float64(n), true
}

// Interval is the 95% Wilson score interval of Ratio; 0..1 without lookups.
// It treats lookups as independent draws: repeated lookups of one key by
// one client are not, so the true uncertainty can be wider.
func (g GroupSample) Interval() (lo, hi float64) { return Wilson(g.Hits, g.Lookups()) }

// Wilson is the 95% Wilson score interval of k successes in n trials.
func Wilson(k, n int64) (lo, hi float64) {
	if n <= 0 {
		return 0, 1
	}
	const z = 1.959964
	p, nn := float64(k)/float64(n), float64(n)
	d := 1 + z*z/nn
	c := (p + z*z/(2*nn)) / d
	h := z * math.Sqrt(p*(1-p)/nn+z*z/(4*nn*nn)) / d
	lo, hi = max(c-h, 0), min(c+h, 1)
	// At the edges the interval touches 0 or 1 exactly; rounding must not
	// leave an all-hits sample with an upper bound of 0.9999999.
	if k == 0 {
		lo = 0
	}
	if k == n {
		hi = 1
	}
	return lo, hi
}

// SampleCost is what the sampling cost Redis, measured from INFO's
// used_cpu_sys + used_cpu_user on every master during the windows and
// between them. Shares are of one core.
type SampleCost struct {
	// Known is false until a window has been followed by a quiet interval
	// to compare it with.
	Known bool
	// Added is the extra CPU of the windows above the rate between them,
	// averaged over the whole period: what the sampling adds.
	Added float64
	// During and Between are Redis's CPU rate during windows and between them.
	During, Between float64
	// CommandsPerSec are the commands MONITOR relayed per second of window
	// (every client and database).
	CommandsPerSec float64
}

// SampleReport is everything the windows saw so far.
type SampleReport struct {
	Groups  []GroupSample // in Selection order
	Windows int
	// Window and Period are the current ones; Period grows when the cost
	// exceeds the budget, and Widened then says why.
	Window, Period time.Duration
	Widened        string
	Budget         float64
	Cost           SampleCost
	// OtherDBs are databases other than the client's whose keys under the
	// groups were read: an app configured with another database.
	OtherDBs []int
}

// Group returns the named group's sample.
func (r SampleReport) Group(name string) (GroupSample, bool) {
	for _, g := range r.Groups {
		if g.Name == name {
			return g, true
		}
	}
	return GroupSample{}, false
}

// Sample watches the app's commands in short MONITOR windows on every
// master and counts, per group, the reads that found their key and those
// that did not: a read followed by a write of the same key from the same
// client (before that client reads it again) is a miss, any other read a
// hit. A read that directly follows the same client's SET NX of the key
// (the re-read of Django's get_or_set) is not a lookup. The commands of
// cachectl's own connections (the sampler's, and any named "cachectl…")
// and of other databases are left out.
//
// It runs until ctx ends or cfg.Windows windows have run, and returns the
// report; an interruption by ctx is not an error.
func Sample(ctx context.Context, rdb redis.UniversalClient, cfg SampleConfig) (SampleReport, error) {
	cfg.defaults()
	if err := cfg.Validate(); err != nil {
		return SampleReport{}, err
	}
	nodes, err := sampleNodes(ctx, rdb)
	if err != nil {
		return SampleReport{}, err
	}
	s := &sampler{cfg: cfg, nodes: nodes, period: cfg.Period,
		counts: make([]GroupSample, len(cfg.Selection))}
	for i, t := range cfg.Selection {
		s.counts[i].Name = t.Name
	}
	for {
		start := time.Now()
		if err := s.window(ctx); err != nil {
			if ctx.Err() != nil {
				return s.report(), nil
			}
			return s.report(), fmt.Errorf("sample: %w", err)
		}
		if cfg.OnWindow != nil {
			cfg.OnWindow(s.report())
		}
		if cfg.Windows > 0 && s.windows >= cfg.Windows {
			return s.report(), nil
		}
		if err := sleep(ctx, time.Until(start.Add(s.period))); err != nil {
			return s.report(), nil
		}
	}
}

func sampleNodes(ctx context.Context, rdb redis.UniversalClient) ([]*redis.Client, error) {
	var mu sync.Mutex
	var nodes []*redis.Client
	err := keyspace.ForEachMaster(ctx, rdb, func(_ context.Context, n *redis.Client) error {
		mu.Lock()
		nodes = append(nodes, n)
		mu.Unlock()
		return nil
	})
	return nodes, err
}

type sampler struct {
	cfg    SampleConfig
	nodes  []*redis.Client
	period time.Duration
	counts []GroupSample

	windows  int
	widened  string
	otherDBs []int

	// cost: the previous window's end (CPU seconds summed over masters,
	// and when), its extra CPU once its baseline is known, and the sums.
	prevEnd     float64
	prevEndAt   time.Time
	prevCPU     float64 // CPU seconds of the previous window
	prevDur     time.Duration
	prevStartAt time.Time
	prevPending bool
	added       float64 // extra CPU seconds of costed windows
	cycles      time.Duration
	during      float64
	duringDur   time.Duration
	between     float64
	betweenDur  time.Duration
	commands    int64
	watched     time.Duration
	recent      []float64 // the last windows' added shares
}

type sampleSession struct {
	node *redis.Client
	ctl  *redis.Conn
	addr string
	db   int
	own  map[string]bool // clients named cachectl…
	mon  *monitor
	at   [3]int
}

// window runs one window on every master and adds what it saw.
func (s *sampler) window(ctx context.Context) error {
	var ss []*sampleSession
	defer func() {
		for _, x := range ss {
			if x.mon != nil {
				x.mon.close()
			}
			_ = x.ctl.Close()
		}
	}()
	for _, n := range s.nodes {
		ss = append(ss, &sampleSession{node: n, ctl: n.Conn(), db: n.Options().DB})
	}
	// The window's cost starts here: its own commands count.
	cpu0, err := s.cpu(ctx, ss)
	if err != nil {
		return err
	}
	t0 := time.Now()
	s.settle(cpu0, t0)
	for _, x := range ss {
		info, err := x.ctl.ClientInfo(ctx).Result()
		if err != nil {
			return fmt.Errorf("CLIENT INFO: %w", err)
		}
		x.addr = info.Addr
		x.own = ownClients(ctx, x.ctl)
	}
	for _, x := range ss {
		if x.mon, err = dialMonitor(ctx, x.node.Options()); err != nil {
			return err
		}
	}
	id := nonce()
	steps := []func() error{
		func() error { return sampleMark(ctx, ss, id, 0) },
		func() error { return sleep(ctx, s.cfg.Window) },
		func() error { return sampleMark(ctx, ss, id, 1) },
		func() error { return sleep(ctx, s.cfg.Grace) },
		func() error { return sampleMark(ctx, ss, id, 2) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	wait, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	for _, x := range ss {
		for i := range x.at {
			if x.at[i], err = x.mon.await(wait, markerName(id, i)); err != nil {
				return fmt.Errorf("monitor %s: marker %d: %w", x.node.Options().Addr, i, err)
			}
		}
	}
	for _, x := range ss {
		x.mon.close()
		s.count(x)
		x.mon = nil
	}
	cpu1, err := s.cpu(ctx, ss)
	if err != nil {
		return err
	}
	t1 := time.Now()
	s.prevCPU, s.prevDur, s.prevStartAt, s.prevPending = cpu1-cpu0, t1.Sub(t0), t0, true
	s.prevEnd, s.prevEndAt = cpu1, t1
	s.during += cpu1 - cpu0
	s.duringDur += t1.Sub(t0)
	s.windows++
	return nil
}

// settle costs the previous window now that the interval after it, up to
// the start of this one at t0 with CPU cpu0, is known; then widens the
// period when the recent windows cost more than the budget.
func (s *sampler) settle(cpu0 float64, t0 time.Time) {
	if !s.prevPending {
		return
	}
	s.prevPending = false
	gap := t0.Sub(s.prevEndAt)
	if gap <= 0 {
		return
	}
	rate := (cpu0 - s.prevEnd) / gap.Seconds()
	s.between += cpu0 - s.prevEnd
	s.betweenDur += gap
	extra := s.prevCPU - rate*s.prevDur.Seconds()
	cycle := t0.Sub(s.prevStartAt)
	s.added += extra
	s.cycles += cycle
	s.recent = append(s.recent, extra/cycle.Seconds())
	if len(s.recent) > 3 {
		s.recent = s.recent[1:]
	}
	var mean float64
	for _, v := range s.recent {
		mean += v / float64(len(s.recent))
	}
	if mean > s.cfg.Budget && s.period < s.cfg.MaxPeriod {
		s.period = min(2*s.period, s.cfg.MaxPeriod)
		s.recent = nil
		s.widened = fmt.Sprintf("sampling added %.1f%% of a core to redis, above its %.1f%% budget: a window every %s",
			100*mean, 100*s.cfg.Budget, s.period)
	}
}

func (s *sampler) report() SampleReport {
	r := SampleReport{Groups: slices.Clone(s.counts), Windows: s.windows, Window: s.cfg.Window,
		Period: s.period, Widened: s.widened, Budget: s.cfg.Budget, OtherDBs: slices.Clone(s.otherDBs)}
	if s.watched > 0 {
		r.Cost.CommandsPerSec = float64(s.commands) / s.watched.Seconds()
	}
	if s.duringDur > 0 {
		r.Cost.During = s.during / s.duringDur.Seconds()
	}
	if s.cycles > 0 && s.betweenDur > 0 {
		r.Cost.Known = true
		r.Cost.Added = max(s.added/s.cycles.Seconds(), 0)
		r.Cost.Between = s.between / s.betweenDur.Seconds()
	}
	return r
}

// cpu sums used_cpu_sys + used_cpu_user over the sessions' masters, read
// on their control connections.
func (s *sampler) cpu(ctx context.Context, ss []*sampleSession) (float64, error) {
	var sum float64
	for _, x := range ss {
		text, err := x.ctl.Info(ctx, "cpu").Result()
		if err != nil {
			return 0, fmt.Errorf("INFO cpu: %w", err)
		}
		info := inspect.ParseInfo(text)
		for _, k := range []string{"used_cpu_sys", "used_cpu_user"} {
			v, _ := info.Float(k)
			sum += v
		}
	}
	return sum, nil
}

// ownClients are the addresses of the connections named cachectl…; none
// when CLIENT LIST is not permitted.
func ownClients(ctx context.Context, ctl *redis.Conn) map[string]bool {
	own := map[string]bool{}
	text, err := ctl.ClientList(ctx).Result()
	if err != nil {
		return own
	}
	for _, l := range strings.Split(text, "\n") {
		var addr, name string
		for _, f := range strings.Fields(l) {
			if v, ok := strings.CutPrefix(f, "addr="); ok {
				addr = v
			} else if v, ok := strings.CutPrefix(f, "name="); ok {
				name = v
			}
		}
		if strings.HasPrefix(name, "cachectl") {
			own[addr] = true
		}
	}
	return own
}

func sampleMark(ctx context.Context, ss []*sampleSession, id string, i int) error {
	for _, x := range ss {
		if err := x.ctl.Echo(ctx, markerName(id, i)).Err(); err != nil {
			return fmt.Errorf("marker: %w", err)
		}
	}
	return nil
}

// lookup is one read a client made inside the window, not yet decided.
type lookup struct {
	group int
	open  bool
}

// count adds one master's window to the counts.
func (s *sampler) count(x *sampleSession) {
	win := x.mon.between(x.at[0], x.at[1])
	grace := x.mon.between(x.at[1], x.at[2])
	s.commands += int64(len(win))
	s.watched += s.cfg.Window
	type clientState struct {
		pending map[string]*lookup // key -> its latest read, awaiting a write
		lastNX  string             // the key of the client's last command, when it was SET … NX
	}
	clients := map[string]*clientState{}
	lines := attributeScripts(append(win, grace...))
	for i, l := range lines {
		if l.Client == x.addr || x.own[l.Client] || len(l.Args) == 0 {
			continue
		}
		inWindow := i < len(win)
		name := strings.ToUpper(l.Args[0])
		if l.DB != x.db {
			if inWindow && isLookup(name) && s.anyGroup(l.Args[1:]) && !slices.Contains(s.otherDBs, l.DB) {
				s.otherDBs = append(s.otherDBs, l.DB)
			}
			continue
		}
		c := clients[l.Client]
		if c == nil {
			c = &clientState{pending: map[string]*lookup{}}
			clients[l.Client] = c
		}
		lastNX := c.lastNX
		c.lastNX = ""
		if isLookup(name) {
			for _, k := range lookupKeys(name, l.Args[1:]) {
				if prev := c.pending[k]; prev != nil {
					s.decide(prev, false) // read again without a write: the first one found it
					delete(c.pending, k)
				}
				if k == lastNX {
					continue // get_or_set's re-read after its add
				}
				g := s.cfg.Selection.Classify(k)
				if g < 0 || !inWindow {
					continue
				}
				c.pending[k] = &lookup{group: g, open: true}
			}
			continue
		}
		for _, o := range ops(l.Args, "") {
			if o.Kind != Write {
				continue
			}
			if prev := c.pending[o.Key]; prev != nil {
				s.decide(prev, true)
				delete(c.pending, o.Key)
			}
			if o.Cmd == "SET" && hasNX(l.Args) {
				c.lastNX = o.Key
			}
		}
	}
	for _, c := range clients {
		for _, p := range c.pending {
			s.decide(p, false)
		}
	}
}

func (s *sampler) decide(l *lookup, miss bool) {
	if !l.open {
		return
	}
	l.open = false
	if miss {
		s.counts[l.group].Misses++
	} else {
		s.counts[l.group].Hits++
	}
}

func (s *sampler) anyGroup(keys []string) bool {
	for _, k := range keys {
		if s.cfg.Selection.Classify(k) >= 0 {
			return true
		}
	}
	return false
}

// isLookup: the reads whose result an app acts on by writing the key when
// it was absent. EXISTS (has_key) is left out: nothing in the stream tells
// whether it found the key.
func isLookup(cmd string) bool { return cmd == "GET" || cmd == "GETEX" || cmd == "MGET" }

func lookupKeys(cmd string, args []string) []string {
	if cmd == "MGET" {
		return args
	}
	return first(args)
}

func hasNX(args []string) bool {
	for _, a := range args[min(3, len(args)):] {
		if strings.EqualFold(a, "NX") {
			return true
		}
	}
	return false
}

// ErrNoSample is returned by readers of a sample before its first window.
var ErrNoSample = errors.New("no sample yet")
