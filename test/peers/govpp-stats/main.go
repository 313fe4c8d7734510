// govpp-stats: a test peer that reads a VPP stats segment with GoVPP's own stats client
// (go.fd.io/govpp/adapter/statsclient) and prints it in the JSON shapes of papi_stats.py and
// `vpp-exporter stats dump --json`.
//
//	govpp-stats --socket PATH [--json | --list | --bench N] [--nopattern] [REGEX...]
//
// Reading and decoding are GoVPP's (statsclient.NewStatsClient + Connect + DumpStats/ListStats);
// this program only converts GoVPP's adapter.Stat values to plain JSON:
//
//	ScalarStat (float64 in GoVPP)   -> number (printed as an integer)
//	SimpleCounterStat               -> [thread][index]
//	CombinedCounterStat             -> [thread][index] = [packets, bytes]
//	NameStat                        -> [string or null]
//	symlink (GoVPP resolves it to the target type, one column) -> [thread] (combined: [packets, bytes])
//	no data (GoVPP returns nil: gauges, histograms, ring buffers, unknown types) -> null
//	EmptyStat                       -> omitted
//
// Output formatting copies Python's json.dumps(obj, sort_keys=True): ", " and ": " separators,
// keys sorted, non-ASCII escaped as \uXXXX, one trailing newline.
//
// Selection: REGEX arguments go to GoVPP as patterns (Go regexp, unanchored search: any match
// anywhere in the name). Without REGEX the program passes the match-all pattern ".*", because
// GoVPP v0.13.0's pattern-less DumpStats()/ListStats() stops at the first directory slot with an
// empty name (a freed EMPTY slot), silently dropping every entry after it. --nopattern calls
// DumpStats()/ListStats() with no pattern at all, to show exactly that behaviour.
//
// A read that GoVPP reports as ErrStatsDataBusy/ErrStatsAccessFailed (the segment changed while
// reading) is retried, up to 1000 times, as vpp-papi does on its own.
//
// --bench N connects once, then repeats DumpStats over the same selection N times (after one
// warm-up read) and prints {"entries": E, "ns_per_read": X, "reads": N}.
package main

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.fd.io/govpp/adapter"
	"go.fd.io/govpp/adapter/statsclient"
)

func main() {
	os.Exit(run())
}

func run() int {
	fs := flag.NewFlagSet("govpp-stats", flag.ContinueOnError)
	socket := fs.String("socket", "", "stats socket path (SEQPACKET, fd passing)")
	asJSON := fs.Bool("json", false, "print one JSON object: name -> value")
	list := fs.Bool("list", false, "print the names only, one a line")
	bench := fs.Int("bench", 0, "repeat a full read N times and print ns per read")
	noPattern := fs.Bool("nopattern", false, "call GoVPP's DumpStats()/ListStats() without any pattern")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}
	if *socket == "" {
		fmt.Fprintln(os.Stderr, "govpp-stats: --socket PATH is required")
		return 2
	}
	if *bench < 0 {
		fmt.Fprintln(os.Stderr, "govpp-stats: --bench N needs N >= 1")
		return 2
	}
	patterns := fs.Args()
	if len(patterns) == 0 && !*noPattern {
		patterns = []string{".*"}
	}
	if len(fs.Args()) > 0 && *noPattern {
		fmt.Fprintln(os.Stderr, "govpp-stats: --nopattern takes no REGEX")
		return 2
	}

	// GoVPP's statsclient logs to stdout by default; keep stdout for our output only.
	statsclient.Log.Out = os.Stderr

	client := statsclient.NewStatsClient(*socket)
	if err := client.Connect(); err != nil {
		fmt.Fprintf(os.Stderr, "govpp-stats: connect %s: %v\n", *socket, err)
		return 1
	}
	defer func() { _ = client.Disconnect() }()

	if *list {
		ids, err := retry(func() ([]adapter.StatIdentifier, error) { return client.ListStats(patterns...) })
		if err != nil {
			fmt.Fprintf(os.Stderr, "govpp-stats: ListStats: %v\n", err)
			return 1
		}
		names := make([]string, 0, len(ids))
		for _, id := range ids {
			names = append(names, string(id.Name))
		}
		sort.Strings(names)
		var b strings.Builder
		for _, n := range names {
			b.WriteString(n)
			b.WriteByte('\n')
		}
		_, _ = os.Stdout.WriteString(b.String())
		return 0
	}

	if *bench > 0 {
		dump := func() ([]adapter.StatEntry, error) { return client.DumpStats(patterns...) }
		entries, err := retry(dump) // warm-up
		if err != nil {
			fmt.Fprintf(os.Stderr, "govpp-stats: DumpStats: %v\n", err)
			return 1
		}
		start := time.Now()
		for i := 0; i < *bench; i++ {
			if entries, err = retry(dump); err != nil {
				fmt.Fprintf(os.Stderr, "govpp-stats: DumpStats: %v\n", err)
				return 1
			}
		}
		ns := time.Since(start).Nanoseconds() / int64(*bench)
		fmt.Printf("{\"entries\": %d, \"ns_per_read\": %d, \"reads\": %d}\n", len(entries), ns, *bench)
		return 0
	}

	entries, err := retry(func() ([]adapter.StatEntry, error) { return client.DumpStats(patterns...) })
	if err != nil {
		fmt.Fprintf(os.Stderr, "govpp-stats: DumpStats: %v\n", err)
		return 1
	}
	values := make(map[string]any, len(entries))
	for _, e := range entries {
		if _, empty := e.Data.(adapter.EmptyStat); empty {
			continue
		}
		name := string(e.Name)
		if _, dup := values[name]; dup {
			fmt.Fprintf(os.Stderr, "govpp-stats: warning: name %q appears twice (index %d kept)\n", name, e.Index)
		}
		v, err := plain(e)
		if err != nil {
			fmt.Fprintf(os.Stderr, "govpp-stats: %s: %v\n", name, err)
			return 1
		}
		values[name] = v
	}

	var b strings.Builder
	if *asJSON {
		writeJSON(&b, values)
		b.WriteByte('\n')
	} else {
		names := make([]string, 0, len(values))
		for n := range values {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			b.WriteString(n)
			b.WriteString(": ")
			writeJSON(&b, values[n])
			b.WriteByte('\n')
		}
	}
	_, _ = os.Stdout.WriteString(b.String())
	return 0
}

// retry repeats a GoVPP read while GoVPP reports that VPP changed the segment under it (epoch
// moved or in_progress stayed set): GoVPP returns these errors instead of retrying, unlike
// vpp-papi. Nothing changes in a served image file; this is for live segments.
func retry[T any](read func() (T, error)) (T, error) {
	for attempt := 1; ; attempt++ {
		v, err := read()
		if (errors.Is(err, adapter.ErrStatsDataBusy) || errors.Is(err, adapter.ErrStatsAccessFailed)) && attempt < 1000 {
			continue
		}
		return v, err
	}
}

// plain converts one GoVPP entry to JSON-able values (map/slice/uint64/string/nil).
func plain(e adapter.StatEntry) (any, error) {
	switch d := e.Data.(type) {
	case nil:
		return nil, nil
	case adapter.ScalarStat:
		f := float64(d)
		if f < 0 || f != math.Trunc(f) || f >= 18446744073709551616.0 {
			return nil, fmt.Errorf("scalar %v is not a u64", f)
		}
		return uint64(f), nil
	case adapter.SimpleCounterStat:
		if e.Symlink {
			// GoVPP resolves a symlink to the target with one value per thread: [thread][1].
			col := make([]any, len(d))
			for t, row := range d {
				if len(row) == 0 {
					col[t] = nil
				} else {
					col[t] = uint64(row[0])
				}
			}
			return col, nil
		}
		rows := make([]any, len(d))
		for t, row := range d {
			if row == nil {
				rows[t] = nil
				continue
			}
			r := make([]any, len(row))
			for i, c := range row {
				r[i] = uint64(c)
			}
			rows[t] = r
		}
		return rows, nil
	case adapter.CombinedCounterStat:
		pair := func(c adapter.CombinedCounter) any { return []any{c[0], c[1]} }
		if e.Symlink {
			col := make([]any, len(d))
			for t, row := range d {
				if len(row) == 0 {
					col[t] = nil
				} else {
					col[t] = pair(row[0])
				}
			}
			return col, nil
		}
		rows := make([]any, len(d))
		for t, row := range d {
			if row == nil {
				rows[t] = nil
				continue
			}
			r := make([]any, len(row))
			for i, c := range row {
				r[i] = pair(c)
			}
			rows[t] = r
		}
		return rows, nil
	case adapter.NameStat:
		out := make([]any, len(d))
		for i, n := range d {
			if n == nil {
				out[i] = nil
			} else {
				out[i] = string(n)
			}
		}
		return out, nil
	case adapter.ErrorStat:
		out := make([]any, len(d))
		for i, c := range d {
			out[i] = uint64(c)
		}
		return out, nil
	default:
		return nil, fmt.Errorf("unexpected GoVPP stat type %T", e.Data)
	}
}

// writeJSON writes v the way Python's json.dumps(v, sort_keys=True) does.
func writeJSON(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case uint64:
		b.WriteString(strconv.FormatUint(x, 10))
	case string:
		writeString(b, x)
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			writeJSON(b, e)
		}
		b.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys) // byte order of UTF-8 = code point order, as Python sorts str
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			writeString(b, k)
			b.WriteString(": ")
			writeJSON(b, x[k])
		}
		b.WriteByte('}')
	default:
		panic(fmt.Sprintf("writeJSON: unexpected %T", v))
	}
}

// writeString escapes like Python's json (ensure_ascii=True): \" \\ \n \r \t \b \f, other
// control characters and everything non-ASCII as \uXXXX (UTF-16 surrogate pairs above U+FFFF).
// Bytes that are not valid UTF-8 become U+FFFD.
func writeString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			switch {
			case r < 0x20 || (r >= 0x7f && r < 0x10000): // Python escapes DEL too
				fmt.Fprintf(b, `\u%04x`, r)
			case r >= 0x10000 && r <= utf8.MaxRune:
				r -= 0x10000
				fmt.Fprintf(b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
			default:
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
}
