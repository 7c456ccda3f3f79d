package redisconn

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/redis/go-redis/v9"
)

// ErrReadOnly is what a read-only client returns for a command that could
// change the data set; errors.Is finds it in a *ReadOnlyError.
var ErrReadOnly = errors.New("read-only")

// ReadOnlyError names the command a read-only client refused to send.
type ReadOnlyError struct{ Command string }

func (e *ReadOnlyError) Error() string {
	return fmt.Sprintf("read-only: refusing to send %s to redis", e.Command)
}
func (e *ReadOnlyError) Unwrap() error { return ErrReadOnly }

// readCommands are the commands a read-only client may send: reads, the
// connection's own set-up, and inspection. Everything else is refused, so
// a command added to cachectl later is refused until it is listed here.
var readCommands = map[string]bool{
	"auth": true, "hello": true, "select": true, "ping": true, "echo": true, "quit": true, "reset": true,
	"readonly": true, "command": true, "info": true, "dbsize": true, "time": true, "role": true,
	"get": true, "mget": true, "exists": true, "ttl": true, "pttl": true, "expiretime": true,
	"pexpiretime": true, "type": true, "strlen": true, "scan": true, "sscan": true, "hscan": true,
	"zscan": true, "hget": true, "hgetall": true, "hmget": true, "hlen": true, "llen": true,
	"lrange": true, "scard": true, "smembers": true, "zcard": true, "zrange": true, "xlen": true,
	"xrange": true, "xrevrange": true, "randomkey": true, "object": true,
	"monitor": true, "subscribe": true, "unsubscribe": true, "psubscribe": true, "punsubscribe": true,
	"slowlog": true, "lastsave": true,
}

// readSubcommands are the read-only subcommands of commands that also have
// writing ones.
var readSubcommands = map[string]map[string]bool{
	"client":  {"id": true, "info": true, "list": true, "setname": true, "getname": true, "setinfo": true, "tracking": true, "trackinginfo": true, "getredir": true, "maint_notifications": true, "no-evict": true, "no-touch": true},
	"cluster": {"info": true, "nodes": true, "slots": true, "shards": true, "myid": true, "keyslot": true, "countkeysinslot": true, "getkeysinslot": true, "links": true},
	"config":  {"get": true},
	"memory":  {"usage": true, "stats": true, "doctor": true},
	"latency": {"histogram": true, "latest": true, "history": true, "doctor": true},
	"acl":     {"whoami": true, "cat": true},
	"xinfo":   {"stream": true, "groups": true, "consumers": true},
}

// Writes reports whether args (a command as go-redis holds it) is not
// known to leave the data set unchanged.
func Writes(args []any) bool {
	if len(args) == 0 {
		return false
	}
	name := strings.ToLower(fmt.Sprint(args[0]))
	if readCommands[name] {
		return false
	}
	if subs, ok := readSubcommands[name]; ok && len(args) > 1 {
		return !subs[strings.ToLower(fmt.Sprint(args[1]))]
	}
	return true
}

// ReadOnly makes c refuse, before anything is sent, every command Writes
// reports, single or pipelined, with a *ReadOnlyError. It is a safety net
// under the commands' own read-only checks: a client built afresh from the
// same options does not inherit it.
func ReadOnly(c redis.UniversalClient) { c.AddHook(readOnlyHook{}) }

type readOnlyHook struct{}

func (readOnlyHook) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) { return next(ctx, network, addr) }
}

func (readOnlyHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if err := refuse(cmd); err != nil {
			cmd.SetErr(err)
			return err
		}
		return next(ctx, cmd)
	}
}

func (readOnlyHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, cmd := range cmds {
			if err := refuse(cmd); err != nil {
				for _, c := range cmds {
					c.SetErr(err)
				}
				return err
			}
		}
		return next(ctx, cmds)
	}
}

func refuse(cmd redis.Cmder) error {
	if !Writes(cmd.Args()) {
		return nil
	}
	name := strings.ToUpper(fmt.Sprint(cmd.Args()[0]))
	if len(cmd.Args()) > 1 {
		if _, ok := readSubcommands[strings.ToLower(name)]; ok {
			name += " " + strings.ToUpper(fmt.Sprint(cmd.Args()[1]))
		}
	}
	return &ReadOnlyError{Command: name}
}
