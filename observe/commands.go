package observe

import (
	"strconv"
	"strings"
	"time"
)

// Kind is what a command did to a key.
type Kind int

const (
	Read Kind = iota
	Write
	Delete
)

// op is one key a command touched.
type op struct {
	Kind Kind
	Cmd  string        // upper case
	Key  string        // the full Redis key
	TTL  time.Duration // writes: the expiry the command set; -1 none (SET without EX); 0 unchanged or unknown
}

// shape says which arguments of a command are keys and what it does to them.
type shape struct {
	kind Kind
	keys func(args []string) []string // args without the command name
	ttl  func(args []string) time.Duration
}

func first(a []string) []string {
	if len(a) == 0 {
		return nil
	}
	return a[:1]
}
func all(a []string) []string { return a }
func pairs(a []string) []string {
	var k []string
	for i := 0; i < len(a); i += 2 {
		k = append(k, a[i])
	}
	return k
}

func seconds(i int) func([]string) time.Duration {
	return func(a []string) time.Duration { return argDuration(a, i, time.Second) }
}
func millis(i int) func([]string) time.Duration {
	return func(a []string) time.Duration { return argDuration(a, i, time.Millisecond) }
}
func argDuration(a []string, i int, unit time.Duration) time.Duration {
	if i >= len(a) {
		return 0
	}
	n, err := strconv.ParseInt(a[i], 10, 64)
	if err != nil {
		return 0
	}
	return time.Duration(n) * unit
}

// setTTL reads SET's options: EX s, PX ms, EXAT, PXAT (relative to now),
// KEEPTTL; without any, SET removes the expiry (-1).
func setTTL(a []string) time.Duration {
	for i := 2; i < len(a); i++ {
		switch strings.ToUpper(a[i]) {
		case "EX":
			return argDuration(a, i+1, time.Second)
		case "PX":
			return argDuration(a, i+1, time.Millisecond)
		case "EXAT":
			return time.Until(time.Unix(int64(argDuration(a, i+1, 1)), 0)).Round(time.Second)
		case "PXAT":
			return time.Until(time.UnixMilli(int64(argDuration(a, i+1, 1)))).Round(time.Millisecond)
		case "KEEPTTL":
			return 0
		}
	}
	return -1
}

func persist([]string) time.Duration { return -1 }

var commands = map[string]shape{
	// reads
	"GET": {kind: Read, keys: first}, "MGET": {kind: Read, keys: all}, "EXISTS": {kind: Read, keys: all},
	"GETEX": {kind: Read, keys: first}, "STRLEN": {kind: Read, keys: first}, "GETRANGE": {kind: Read, keys: first},
	"TTL": {kind: Read, keys: first}, "PTTL": {kind: Read, keys: first}, "TYPE": {kind: Read, keys: first},
	"HGET": {kind: Read, keys: first}, "HMGET": {kind: Read, keys: first}, "HGETALL": {kind: Read, keys: first},
	"HEXISTS": {kind: Read, keys: first}, "LRANGE": {kind: Read, keys: first}, "LLEN": {kind: Read, keys: first},
	"SMEMBERS": {kind: Read, keys: first}, "SISMEMBER": {kind: Read, keys: first}, "SCARD": {kind: Read, keys: first},
	"ZRANGE": {kind: Read, keys: first}, "ZSCORE": {kind: Read, keys: first}, "ZCARD": {kind: Read, keys: first},
	// writes
	"SET": {kind: Write, keys: first, ttl: setTTL}, "SETEX": {kind: Write, keys: first, ttl: seconds(1)},
	"PSETEX": {kind: Write, keys: first, ttl: millis(1)}, "SETNX": {kind: Write, keys: first, ttl: persist},
	"GETSET": {kind: Write, keys: first, ttl: persist}, "MSET": {kind: Write, keys: pairs, ttl: persist},
	"MSETNX": {kind: Write, keys: pairs, ttl: persist}, "APPEND": {kind: Write, keys: first},
	"INCR": {kind: Write, keys: first}, "INCRBY": {kind: Write, keys: first}, "DECR": {kind: Write, keys: first},
	"DECRBY": {kind: Write, keys: first}, "INCRBYFLOAT": {kind: Write, keys: first},
	"HSET": {kind: Write, keys: first}, "HMSET": {kind: Write, keys: first}, "HSETNX": {kind: Write, keys: first},
	"HINCRBY": {kind: Write, keys: first}, "LPUSH": {kind: Write, keys: first}, "RPUSH": {kind: Write, keys: first},
	"SADD": {kind: Write, keys: first}, "ZADD": {kind: Write, keys: first},
	"EXPIRE": {kind: Write, keys: first, ttl: seconds(1)}, "PEXPIRE": {kind: Write, keys: first, ttl: millis(1)},
	"PERSIST": {kind: Write, keys: first, ttl: persist}, "RESTORE": {kind: Write, keys: first, ttl: millis(1)},
	// deletes
	"DEL": {kind: Delete, keys: all}, "UNLINK": {kind: Delete, keys: all}, "GETDEL": {kind: Delete, keys: first},
}

// ops returns what args (a command and its arguments) did to keys under
// prefix; nothing for commands that touch no such key.
func ops(args []string, prefix string) []op {
	if len(args) == 0 {
		return nil
	}
	name := strings.ToUpper(args[0])
	sh, ok := commands[name]
	if !ok {
		return nil
	}
	rest := args[1:]
	var ttl time.Duration
	if sh.ttl != nil {
		ttl = sh.ttl(rest)
	}
	var out []op
	for _, k := range sh.keys(rest) {
		if strings.HasPrefix(k, prefix) {
			out = append(out, op{Kind: sh.kind, Cmd: name, Key: k, TTL: ttl})
		}
	}
	return out
}
