package app

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/s3dns/s3dns/ops"
	"github.com/s3dns/s3dns/wire"
)

// adminCall sends one request to the running server's admin path and
// decodes its JSON reply into out.
func adminCall(fs *pflag.FlagSet, io IO, cmd, method, path string, query url.Values, out any) bool {
	addr, ok := serverHTTP(fs, io, cmd)
	if !ok {
		return false
	}
	u := url.URL{Scheme: "http", Host: addr, Path: path, RawQuery: query.Encode()}
	req, err := http.NewRequestWithContext(io.Ctx, method, u.String(), nil)
	if err != nil {
		fmt.Fprintf(io.Stderr, "%s: %v\n", cmd, err)
		return false
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		fmt.Fprintf(io.Stderr, "%s: %v\n", cmd, err)
		return false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := readSome(resp.Body)
		fmt.Fprintf(io.Stderr, "%s: %s answered %s: %s", cmd, u.String(), resp.Status, body)
		return false
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		fmt.Fprintf(io.Stderr, "%s: %s: %v\n", cmd, u.String(), err)
		return false
	}
	return true
}

func readSome(r io.Reader) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r, 4096))
	return string(b), err
}

// cacheFlush drops the running server's answers for NAME, or all of them.
func cacheFlush(fs *pflag.FlagSet, io IO) int {
	query := url.Values{}
	if fs.NArg() == 1 {
		query.Set("name", fs.Arg(0))
	}
	var reply struct {
		Flushed int `json:"flushed"`
	}
	if !adminCall(fs, io, "cache flush", http.MethodPost, ops.PathFlush, query, &reply) {
		return 1
	}
	what := "every answer"
	if fs.NArg() == 1 {
		what = "the answers for " + fs.Arg(0)
	}
	fmt.Fprintf(io.Stdout, "flushed %s: %d\n", what, reply.Flushed)
	return 0
}

// cacheDump lists what the running server holds: name, type, TTL left, rcode, site.
func cacheDump(fs *pflag.FlagSet, io IO) int {
	var reply struct {
		Answers []wire.Held `json:"answers"`
	}
	if !adminCall(fs, io, "cache dump", http.MethodGet, ops.PathDump, nil, &reply) {
		return 1
	}
	w := tabwriter.NewWriter(io.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tTYPE\tTTL\tRCODE\tFROM\tSITE\tDO/CD")
	for _, h := range reply.Answers {
		ttl := fmt.Sprint(h.TTL)
		if h.TTL < 0 {
			ttl = fmt.Sprintf("stale %ds", -h.TTL)
		}
		bits := ""
		if h.DO {
			bits += "DO "
		}
		if h.CD {
			bits += "CD"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", h.Name, h.Type, ttl, h.Rcode, h.From, h.Site, bits)
	}
	w.Flush()
	fmt.Fprintf(io.Stdout, "%d answers\n", len(reply.Answers))
	return 0
}

// reloadServer makes the running server read its configuration again.
func reloadServer(fs *pflag.FlagSet, io IO) int {
	var reply struct {
		Reloaded bool `json:"reloaded"`
	}
	if !adminCall(fs, io, "reload", http.MethodPost, ops.PathReload, nil, &reply) {
		return 1
	}
	fmt.Fprintln(io.Stdout, "configuration reloaded")
	return 0
}
