// Command ceiling serves the same 2 KB body on every path: the static
// endpoint perf/bench-ceiling.sh measures load generators against, so that
// the server costs as little as it can and the generator is what is measured.
package main

import (
	"bytes"
	"flag"
	"log"
	"net/http"
	"strconv"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8098", "address to listen on")
	size := flag.Int("size", 2048, "bytes of each response body")
	flag.Parse()
	body := bytes.Repeat([]byte("x"), *size)
	n := strconv.Itoa(len(body))
	log.Fatal(http.ListenAndServe(*listen, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", n)
		w.Write(body)
	})))
}
