// Command bare is the ceiling for any handler that must ask Redis: it answers
// every request with the bytes of one key, read with one GET, less the mark
// line that `cachectl serve` stores before each value. perf/serve/run.sh
// compares `cachectl serve` against it.
package main

import (
	"bytes"
	"context"
	"flag"
	"log"
	"net/http"

	"github.com/redis/go-redis/v9"
)

func main() {
	addr := flag.String("redis", "127.0.0.1:6379", "redis address")
	key := flag.String("key", "ecommerce:1:product:1", "key whose value every response returns")
	listen := flag.String("listen", "127.0.0.1:8099", "address to listen on")
	mark := flag.String("mark", "#cachectl-serve/1\n", "prefix of the stored value that is not sent")
	flag.Parse()
	rdb := redis.NewClient(&redis.Options{Addr: *addr, Protocol: 2, DisableIdentity: true})
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		v, err := rdb.Get(context.Background(), *key).Bytes()
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(bytes.TrimPrefix(v, []byte(*mark)))
	})
	log.Fatal(http.ListenAndServe(*listen, nil))
}
