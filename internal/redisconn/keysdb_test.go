package redisconn

import "testing"

func TestKeysDBIsZeroOnACluster(t *testing.T) {
	if db := (&Conn{DB: 3}).KeysDB(); db != 3 {
		t.Errorf("standalone db 3: KeysDB %d", db)
	}
	if db := (&Conn{DB: 3, Cluster: true}).KeysDB(); db != 0 {
		t.Errorf("cluster: KeysDB %d, want 0", db)
	}
}
