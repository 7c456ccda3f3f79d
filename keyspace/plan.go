package keyspace

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/internal/option"
)

// PlanFormat names the layout of a plan file; a reader refuses any other.
const PlanFormat = "cachectl.clear-plan/v1"

// ErrBadPlan is wrapped by the error of a plan file that cannot be used:
// not a plan, another format, or a key set that does not match its digest.
var ErrBadPlan = errors.New("not a usable plan")

// Plan is what a clear would delete, written by MakePlan and carried out
// exactly by Apply: the selection and conditions, the servers it was made
// on, counts, an estimate of the memory, and the key set itself with its
// digest.
type Plan struct {
	Format  string    `json:"format"`
	Created time.Time `json:"created"`
	// Asked is the request as the user gave it (clear's flags), for people.
	Asked      []string       `json:"asked,omitempty"`
	Prefix     string         `json:"prefix"`
	Version    int            `json:"version"`
	Selection  Selection      `json:"selection"`
	Conditions PlanConditions `json:"conditions"`
	Server     PlanServer     `json:"server"`
	Targets    []PlanTarget   `json:"targets"`
	Keys       int64          `json:"keys"`
	// BytesEstimate is the sampled MEMORY USAGE scaled to the key count:
	// an estimate; -1 when the user may not run MEMORY USAGE.
	BytesEstimate int64 `json:"bytes_estimate"`
	// Digest is "sha256:" and the hex SHA-256 of the sorted key set, each
	// key as its length (uvarint) then its bytes.
	Digest string  `json:"digest"`
	KeySet keyList `json:"key_set"`
}

// PlanConditions are a plan's Conditions, as JSON.
type PlanConditions struct {
	NoTTL      bool    `json:"no_ttl"`
	TTLBelowMs float64 `json:"ttl_below_ms"`
}

func (c PlanConditions) conditions() Conditions {
	return Conditions{NoTTL: c.NoTTL, TTLBelow: time.Duration(c.TTLBelowMs * float64(time.Millisecond))}
}

// PlanServer is the identity of the servers a plan was made on: the one
// server of a standalone deployment, or every master of a cluster.
type PlanServer struct {
	Cluster bool `json:"cluster"`
	// DB is the database the keys are in: a key set names keys of one
	// database, and another database of the same server holds other keys.
	DB    int        `json:"db"`
	Nodes []PlanNode `json:"nodes"`
}

// PlanNode is one server (a master, on a cluster) and its planned keys.
type PlanNode struct {
	Addr   string `json:"addr"`
	NodeID string `json:"node_id,omitempty"`
	RunID  string `json:"run_id"`
	Keys   int64  `json:"keys"`
}

func (n PlanNode) id() serverID { return serverID{RunID: n.RunID, NodeID: n.NodeID} }

// PlanTarget is one target's share of a plan.
type PlanTarget struct {
	Name          string   `json:"name"`
	Keys          int64    `json:"keys"`
	BytesEstimate int64    `json:"bytes_estimate"`
	Samples       []string `json:"samples"`
}

// PlanConfig tunes MakePlan.
type PlanConfig struct {
	// Count, Batch and Conditions are used as Clear uses them; DryRun and
	// Limit are ignored (a plan deletes nothing).
	ClearConfig
	// Samples is how many keys per target are measured with MEMORY USAGE;
	// DefaultSamples when 0, none when negative.
	Samples int
	Asked   []string
	Schema  Schema // prefix and version, for the record
}

// MakePlan scans every master as a dry run of Clear does (same passes,
// same identity checks, same honest completion) and keeps the keys it
// finds. It deletes nothing. Memory grows with the key set, which the plan holds.
func MakePlan(ctx context.Context, c redis.UniversalClient, sel Selection, cfg PlanConfig) (*Plan, error) {
	cc := cfg.ClearConfig
	cc.DryRun, cc.Limit = true, 0
	col := &collector{}
	if _, err := clearWatched(ctx, c, sel, cc, col); err != nil {
		return nil, err
	}
	_, cluster := c.(*redis.ClusterClient)
	db := 0
	if sc, ok := c.(*redis.Client); ok {
		db = sc.Options().DB
	}
	p := &Plan{Format: PlanFormat, Created: time.Now().UTC().Truncate(time.Millisecond), Asked: cfg.Asked,
		Prefix: cfg.Schema.Prefix, Version: cfg.Schema.Version, Selection: sel,
		Conditions: PlanConditions{NoTTL: cc.Conditions.NoTTL, TTLBelowMs: float64(cc.Conditions.TTLBelow) / float64(time.Millisecond)},
		Server:     PlanServer{Cluster: cluster, DB: db}, Targets: make([]PlanTarget, len(sel))}
	byTarget := make([][]string, len(sel))
	for _, addr := range slices.Sorted(mapKeys(col.nodes)) {
		n := col.nodes[addr]
		found := n.sorted()
		p.Server.Nodes = append(p.Server.Nodes, PlanNode{Addr: addr, NodeID: n.id.NodeID, RunID: n.id.RunID, Keys: int64(len(found))})
		for _, k := range found {
			p.KeySet = append(p.KeySet, k.key)
			byTarget[k.target] = append(byTarget[k.target], k.key)
		}
	}
	slices.Sort(p.KeySet)
	p.KeySet = slices.Compact(p.KeySet)
	p.Keys, p.Digest = int64(len(p.KeySet)), digest(p.KeySet)
	for i, t := range sel {
		p.Targets[i] = PlanTarget{Name: t.Name, Keys: int64(len(byTarget[i])), Samples: pick(byTarget[i], cfg.Samples)}
	}
	if cfg.Samples >= 0 {
		if err := p.estimate(ctx, c); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// pick returns up to n of keys, chosen at random, sorted.
func pick(keys []string, n int) []string {
	if n == 0 {
		n = DefaultSamples
	}
	if n < 0 {
		return nil
	}
	out := slices.Clone(keys)
	if len(out) > n {
		rand.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
		out = out[:n]
	}
	slices.Sort(out)
	return out
}

// estimate measures each target's samples with MEMORY USAGE (a cluster
// client sends each to its key's master) and scales the mean to the count.
func (p *Plan) estimate(ctx context.Context, c redis.UniversalClient) error {
	cmds := make([][]*redis.IntCmd, len(p.Targets))
	_, err := c.Pipelined(ctx, func(pl redis.Pipeliner) error {
		for i, t := range p.Targets {
			for _, k := range t.Samples {
				cmds[i] = append(cmds[i], pl.MemoryUsage(ctx, k))
			}
		}
		return nil
	})
	if err != nil && !isReply(err) && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("measure samples: %w", err)
	}
	for i := range p.Targets {
		t := &p.Targets[i]
		var sum, n int64
		for _, cmd := range cmds[i] {
			switch v, err := cmd.Result(); {
			case isNoPerm(err):
				t.BytesEstimate, p.BytesEstimate = -1, -1
			case err == nil:
				sum, n = sum+v, n+1
			}
		}
		if t.BytesEstimate == 0 && n > 0 {
			t.BytesEstimate = int64(float64(sum) / float64(n) * float64(t.Keys))
		}
		if p.BytesEstimate >= 0 {
			p.BytesEstimate += max(t.BytesEstimate, 0)
		}
	}
	return nil
}

func digest(sorted []string) string {
	h := sha256.New()
	var n [binary.MaxVarintLen64]byte
	for _, k := range sorted {
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(k)))])
		io.WriteString(h, k)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// WritePlan writes p as indented JSON, gzipped when gz is set.
func WritePlan(w io.Writer, p *Plan, gz bool) error {
	bw := bufio.NewWriter(w)
	out := io.Writer(bw)
	var zw *gzip.Writer
	if gz {
		zw = gzip.NewWriter(bw)
		out = zw
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", " ")
	if err := enc.Encode(p); err != nil {
		return err
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// ReadPlan reads a plan written by WritePlan, gzipped or not (it looks at
// the bytes, not the name), and checks its format, its key set against its
// digest, and its selection.
func ReadPlan(r io.Reader) (*Plan, error) {
	br := bufio.NewReader(r)
	in := io.Reader(br)
	if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadPlan, err)
		}
		defer zr.Close()
		in = zr
	}
	var p Plan
	if err := json.NewDecoder(in).Decode(&p); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadPlan, err)
	}
	switch {
	case p.Format != PlanFormat:
		return nil, fmt.Errorf("%w: format %q, want %q", ErrBadPlan, p.Format, PlanFormat)
	case len(p.Selection) == 0:
		return nil, fmt.Errorf("%w: it selects nothing", ErrBadPlan)
	case !slices.IsSorted(p.KeySet) || len(slices.Compact(slices.Clone(p.KeySet))) != len(p.KeySet):
		return nil, fmt.Errorf("%w: its key set is not sorted and unique", ErrBadPlan)
	case digest(p.KeySet) != p.Digest || int64(len(p.KeySet)) != p.Keys:
		return nil, fmt.Errorf("%w: its key set does not match its digest or count (the file was changed)", ErrBadPlan)
	}
	if _, err := p.Selection.ScanMatch(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadPlan, err)
	}
	for _, k := range p.KeySet {
		if p.Selection.Classify(k) < 0 {
			return nil, fmt.Errorf("%w: key %q is outside its selection", ErrBadPlan, k)
		}
	}
	return &p, nil
}

// keyList is a key set in JSON: a key that is valid UTF-8 as a string, any
// other as {"base64": "..."}, since Redis keys are bytes and JSON strings
// are text.
type keyList []string

func (l keyList) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, k := range l {
		if i > 0 {
			b.WriteByte(',')
		}
		var v any = k
		if !utf8.ValidString(k) {
			v = map[string]string{"base64": base64.StdEncoding.EncodeToString([]byte(k))}
		}
		enc, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		b.Write(enc)
	}
	b.WriteByte(']')
	return b.Bytes(), nil
}

func (l *keyList) UnmarshalJSON(data []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	out := make(keyList, len(raw))
	for i, r := range raw {
		if err := json.Unmarshal(r, &out[i]); err == nil {
			continue
		}
		var b struct {
			Base64 []byte `json:"base64"`
		}
		if err := json.Unmarshal(r, &b); err != nil {
			return fmt.Errorf("key %d: %w", i, err)
		}
		out[i] = string(b.Base64)
	}
	*l = out
	return nil
}

// passWatch sees the passes of a clear: a plan collects what they find, an
// apply admits only the plan's keys on the plan's servers.
type passWatch interface {
	startPass()
	// node is called as a pass begins on a server; an error ends the pass.
	node(addr string, id serverID) error
	admit(key string) bool
	found(addr string, keys []string, targets []int)
}

// admit keeps the keys of a SCAN page that belong to a target, that the
// watch admits and that meet the conditions (one pipelined PTTL check).
func (cl *clearer) admit(ctx context.Context, p *pinned, page []string) ([]string, []int, error) {
	keys, targets := classify(cl.sel, page)
	if cl.watch != nil {
		j := 0
		for i, k := range keys {
			if cl.watch.admit(k) {
				keys[j], targets[j] = k, targets[i]
				j++
			}
		}
		keys, targets = keys[:j], targets[:j]
	}
	if cl.cfg.Conditions.Active() && len(keys) > 0 {
		in, inTargets := keys, targets
		err := p.do(ctx, func(c *redis.Conn) (err error) {
			keys, targets, err = cl.cfg.Conditions.filter(ctx, c, p.addr(), in, inTargets)
			return err
		})
		if err != nil {
			return nil, nil, err
		}
	}
	if cl.watch != nil && len(keys) > 0 {
		cl.watch.found(p.addr(), keys, targets)
	}
	return keys, targets, nil
}

// collector is a plan's watch: every key found, per server, for the last pass.
type collector struct {
	mu    sync.Mutex
	nodes map[string]*nodeKeys
}

type nodeKeys struct {
	id    serverID
	found []foundKey
}

type foundKey struct {
	key    string
	target int
}

// sorted returns the node's keys sorted, each once.
func (n *nodeKeys) sorted() []foundKey {
	slices.SortFunc(n.found, func(a, b foundKey) int { return strings.Compare(a.key, b.key) })
	return slices.CompactFunc(n.found, func(a, b foundKey) bool { return a.key == b.key })
}

func (c *collector) startPass() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nodes = map[string]*nodeKeys{}
}

func (c *collector) node(addr string, id serverID) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nodes[addr] = &nodeKeys{id: id}
	return nil
}

func (c *collector) admit(string) bool { return true }

func (c *collector) found(addr string, keys []string, targets []int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.nodes[addr]
	for i, k := range keys {
		n.found = append(n.found, foundKey{k, targets[i]})
	}
}

// SavePlan and LoadPlan name clear's flags in their errors, as
// ClearConfig.Validate does.

// SavePlan writes p to the file at path, gzipped when the name ends in
// ".gz"; "-" writes it to stdout.
func SavePlan(path string, stdout io.Writer, p *Plan) error {
	if path == "-" {
		return WritePlan(stdout, p, false)
	}
	f, err := os.Create(path)
	if err != nil {
		return option.Errorf("--plan: %v", err)
	}
	err = WritePlan(f, p, strings.HasSuffix(path, ".gz"))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write the plan to %s: %w", path, err)
	}
	return nil
}

// LoadPlan reads the plan at path ("-": stdin) with ReadPlan.
func LoadPlan(path string, stdin io.Reader) (*Plan, error) {
	r, err := option.OpenInput(path, stdin, "apply")
	if err != nil {
		return nil, err
	}
	defer r.Close()
	p, err := ReadPlan(r)
	if err != nil {
		return nil, fmt.Errorf("--apply %s: %w", path, err)
	}
	return p, nil
}
