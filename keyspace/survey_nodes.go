package keyspace

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// master is one server that owns keys, as a survey sees it.
type master struct {
	Addr, ID string
	Slots    int  // hash slots it serves; 0 on a standalone server
	Cluster  bool // a cluster master (Slots and ID mean something)
}

// eachSurveyedMaster is ForEachMaster that also tells fn which master it
// runs on: its address, and on a cluster its node id and slot count, from
// the same view of the cluster that counting and clearing use.
func eachSurveyedMaster(ctx context.Context, c redis.UniversalClient, fn func(ctx context.Context, node *redis.Client, m master) error) error {
	switch c := c.(type) {
	case *redis.Client:
		return fn(ctx, c, master{Addr: NodeAddr(c)})
	case *redis.ClusterClient:
		return eachViewedMaster(ctx, c, func(ctx context.Context, node *redis.Client, mv masterView) error {
			return fn(ctx, node, master{Addr: mv.Addr, ID: mv.ID, Slots: countSlots(mv.Slots), Cluster: true})
		})
	default:
		return fmt.Errorf("unsupported redis client %T", c)
	}
}

// countSlots counts the slots of a CLUSTER NODES slot list ("0-5460 5462").
// Migration markers ("[42->-id]") are not slots the node serves.
func countSlots(ranges string) int {
	n := 0
	for a, b := range slotRanges(ranges) {
		if b >= a {
			n += b - a + 1
		}
	}
	return n
}
