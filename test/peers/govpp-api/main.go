// govpp-api: a test peer that drives a VPP binary API socket with GoVPP (go.fd.io/govpp v0.13.0:
// adapter/socketclient + core), using bindings that GoVPP's own binapi-generator makes from the
// VPP 26.10 .api.json set, so the CRCs are VPP's. scripts/peers/build-govpp-api.sh generates the
// bindings (into binapi/ of a build copy of this folder, under the cache) and builds the binary.
//
//	govpp-api --socket PATH                      the scenario below; one JSON object on stdout
//	govpp-api --socket PATH --bench-routes N [--window W] [--nh-sw-if-index I] [--warmup M]
//
// The scenario (the same as test/peers/papi_api.py): CheckCompatiblity of every message used;
// show_version; control_ping; sw_interface_dump (all, and by name filter); want_interface_events
// and a subscription to sw_interface_event; sw_interface_set_flags down/up on the first loopback
// that is up and on a missing index, waiting for the events; sw_interface_add_del_address and
// ip_address_dump; ip_route_add_del (IPv4, IPv6, multipath, missing table, new table, no paths,
// missing next-hop interface), ip_table_dump, ip_route_dump, delete; create_loopback, dump,
// set up, delete_loopback with their events; want_interface_events off; disconnect.
// A reply's non-zero retval (GoVPP returns it as api.VPPApiError) is reported as that number.
//
// --bench-routes N programs N IPv4 /32 routes (100.64.0.0 + i) one request at a time (sync:
// SendRequest + ReceiveReply), then N more (100.96.0.0 + i) pipelined on a GoVPP Stream with at
// most W (default 256) outstanding, and prints
// {"async": {"errors", "routes_per_s", "seconds", "passes"}, "routes": N, "sync": {...}, "window": W};
// with --passes P the pipelined pass runs P times on new addresses and "async" gives the median
// (and every pass's rate in "passes").
// --warmup M first programs M routes (100.32.0.0 + i) on a stream, untimed, as the bench does for
// our client (whose JIT compiles its pipelined path during its first passes).
package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
	"go.fd.io/govpp/adapter/socketclient"
	"go.fd.io/govpp/api"
	"go.fd.io/govpp/core"

	"vpp-exporter/test/peers/govpp-api/binapi/ethernet_types"
	"vpp-exporter/test/peers/govpp-api/binapi/fib_types"
	interfaces "vpp-exporter/test/peers/govpp-api/binapi/interface"
	"vpp-exporter/test/peers/govpp-api/binapi/interface_types"
	"vpp-exporter/test/peers/govpp-api/binapi/ip"
	"vpp-exporter/test/peers/govpp-api/binapi/ip_types"
	"vpp-exporter/test/peers/govpp-api/binapi/memclnt"
	"vpp-exporter/test/peers/govpp-api/binapi/vpe"
)

type obj = map[string]any

func main() {
	os.Exit(run())
}

func run() int {
	fs := flag.NewFlagSet("govpp-api", flag.ContinueOnError)
	socket := fs.String("socket", "", "VPP binary API socket (SOCK_STREAM)")
	bench := fs.Int("bench-routes", 0, "program N routes sync and pipelined, print routes/s")
	window := fs.Int("window", 256, "outstanding requests in the pipelined bench")
	nhSw := fs.Uint("nh-sw-if-index", 1, "next-hop interface of the bench routes")
	warmup := fs.Int("warmup", 0, "routes programmed on a stream, untimed, before the bench")
	passes := fs.Int("passes", 1, "pipelined passes of N routes each (new addresses each pass); the rate is their median")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}
	if *socket == "" {
		fmt.Fprintln(os.Stderr, "govpp-api: --socket is required")
		return 2
	}
	// GoVPP logs with logrus on stdout by default: keep stdout for the JSON.
	quiet := logrus.New()
	quiet.SetOutput(os.Stderr)
	quiet.SetLevel(logrus.WarnLevel)
	core.SetLogger(quiet)
	socketclient.SetLogger(quiet)

	client := socketclient.NewVppClient(*socket)
	client.SetClientName("govpp-sim-test")
	conn, err := core.Connect(client)
	if err != nil {
		fmt.Fprintln(os.Stderr, "govpp-api: connect:", err)
		return 1
	}
	var out any
	if *bench > 0 {
		out, err = benchRoutes(conn, *bench, *window, uint32(*nhSw), *warmup, *passes)
	} else {
		out, err = scenario(conn)
	}
	conn.Disconnect()
	if err != nil {
		fmt.Fprintln(os.Stderr, "govpp-api:", err)
		return 1
	}
	enc := json.NewEncoder(os.Stdout)
	if err := enc.Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, "govpp-api:", err)
		return 1
	}
	return 0
}

// retval turns GoVPP's error for a non-zero retval back into the number; other errors stay errors.
func retval(err error) (int, error) {
	if err == nil {
		return 0, nil
	}
	var e api.VPPApiError
	if errors.As(err, &e) {
		return int(e), nil
	}
	return 0, err
}

func call(ch api.Channel, req, reply api.Message) (int, error) {
	return retval(ch.SendRequest(req).ReceiveReply(reply))
}

func ifaceJSON(d *interfaces.SwInterfaceDetails) obj {
	mtu := make([]uint32, len(d.Mtu))
	copy(mtu, d.Mtu)
	return obj{
		"sw_if_index":       uint32(d.SwIfIndex),
		"sup_sw_if_index":   d.SupSwIfIndex,
		"name":              d.InterfaceName,
		"dev_type":          d.InterfaceDevType,
		"flags":             uint32(d.Flags),
		"type":              uint32(d.Type),
		"link_mtu":          d.LinkMtu,
		"mtu":               mtu,
		"mac":               d.L2Address.String(),
		"sub_id":            d.SubID,
		"sub_outer_vlan_id": d.SubOuterVlanID,
	}
}

func dumpInterfaces(ch api.Channel, req *interfaces.SwInterfaceDump) ([]obj, error) {
	list := []obj{}
	rc := ch.SendMultiRequest(req)
	for {
		d := &interfaces.SwInterfaceDetails{}
		stop, err := rc.ReceiveReply(d)
		if err != nil {
			return nil, err
		}
		if stop {
			return list, nil
		}
		list = append(list, ifaceJSON(d))
	}
}

func nhPath(sw uint32, nh string) (fib_types.FibPath, error) {
	a, err := ip_types.ParseAddress(nh)
	if err != nil {
		return fib_types.FibPath{}, err
	}
	proto := fib_types.FIB_API_PATH_NH_PROTO_IP4
	if a.Af == ip_types.ADDRESS_IP6 {
		proto = fib_types.FIB_API_PATH_NH_PROTO_IP6
	}
	return fib_types.FibPath{SwIfIndex: sw, Weight: 1, Proto: proto, Nh: fib_types.FibPathNh{Address: a.Un}}, nil
}

func routeReq(isAdd, multipath bool, table uint32, prefix string, paths ...fib_types.FibPath) (*ip.IPRouteAddDel, error) {
	p, err := ip_types.ParsePrefix(prefix)
	if err != nil {
		return nil, err
	}
	return &ip.IPRouteAddDel{
		IsAdd:       isAdd,
		IsMultipath: multipath,
		Route:       ip.IPRoute{TableID: table, Prefix: p, NPaths: uint8(len(paths)), Paths: paths},
	}, nil
}

func routeJSON(r *ip.IPRouteDetails) obj {
	paths := []obj{}
	for _, p := range r.Route.Paths {
		nh := p.Nh.Address.GetIP4().String()
		if p.Proto == fib_types.FIB_API_PATH_NH_PROTO_IP6 {
			nh = p.Nh.Address.GetIP6().String()
		}
		paths = append(paths, obj{"sw_if_index": p.SwIfIndex, "type": uint32(p.Type), "proto": uint32(p.Proto), "nh": nh, "weight": p.Weight})
	}
	return obj{"prefix": r.Route.Prefix.String(), "table_id": r.Route.TableID, "stats_index": r.Route.StatsIndex, "paths": paths}
}

func dumpRoutes(ch api.Channel, table uint32, ip6 bool) ([]obj, error) {
	list := []obj{}
	rc := ch.SendMultiRequest(&ip.IPRouteDump{Table: ip.IPTable{TableID: table, IsIP6: ip6}})
	for {
		d := &ip.IPRouteDetails{}
		stop, err := rc.ReceiveReply(d)
		if err != nil {
			return nil, err
		}
		if stop {
			return list, nil
		}
		list = append(list, routeJSON(d))
	}
}

func dumpAddresses(ch api.Channel, sw uint32, ip6 bool) ([]string, error) {
	list := []string{}
	rc := ch.SendMultiRequest(&ip.IPAddressDump{SwIfIndex: interface_types.InterfaceIndex(sw), IsIPv6: ip6})
	for {
		d := &ip.IPAddressDetails{}
		stop, err := rc.ReceiveReply(d)
		if err != nil {
			return nil, err
		}
		if stop {
			return list, nil
		}
		list = append(list, d.Prefix.String())
	}
}

type eventLog struct {
	mu     sync.Mutex
	events []obj
}

func (l *eventLog) add(e *interfaces.SwInterfaceEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, obj{"sw_if_index": uint32(e.SwIfIndex), "flags": uint32(e.Flags), "deleted": e.Deleted, "pid": e.PID})
}

// wait returns (and forgets) the events received so far once there are n, or after 5 s.
func (l *eventLog) wait(n int) []obj {
	end := time.Now().Add(5 * time.Second)
	for time.Now().Before(end) {
		l.mu.Lock()
		got := len(l.events)
		l.mu.Unlock()
		if got >= n {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.events
	l.events = nil
	if out == nil {
		out = []obj{}
	}
	return out
}

func scenario(conn *core.Connection) (obj, error) {
	ch, err := conn.NewAPIChannel()
	if err != nil {
		return nil, err
	}
	defer ch.Close()
	out := obj{}

	var used []api.Message
	used = append(used, vpe.AllMessages()...)
	used = append(used, memclnt.AllMessages()...)
	used = append(used, interfaces.AllMessages()...)
	used = append(used, ip.AllMessages()...)
	if err := ch.CheckCompatiblity(used...); err != nil {
		out["compatible"] = err.Error()
	} else {
		out["compatible"] = true
	}

	ver := &vpe.ShowVersionReply{}
	rv, err := call(ch, &vpe.ShowVersion{}, ver)
	if err != nil {
		return nil, err
	}
	out["version"] = obj{"retval": rv, "program": ver.Program, "version": ver.Version, "build_date": ver.BuildDate}
	rv, err = call(ch, &memclnt.ControlPing{}, &memclnt.ControlPingReply{})
	if err != nil {
		return nil, err
	}
	out["ping"] = obj{"retval": rv}

	all, err := dumpInterfaces(ch, &interfaces.SwInterfaceDump{SwIfIndex: ^interface_types.InterfaceIndex(0)})
	if err != nil {
		return nil, err
	}
	out["interfaces"] = all
	filtered, err := dumpInterfaces(ch, &interfaces.SwInterfaceDump{SwIfIndex: ^interface_types.InterfaceIndex(0), NameFilterValid: true, NameFilter: "LOOP"})
	if err != nil {
		return nil, err
	}
	names := []string{}
	for _, i := range filtered {
		names = append(names, i["name"].(string))
	}
	out["filtered"] = names
	var sw uint32
	found := false
	for _, i := range all {
		if i["dev_type"] == "Loopback" && i["flags"] == uint32(3) {
			sw, found = i["sw_if_index"].(uint32), true
			break
		}
	}
	if !found {
		return nil, fmt.Errorf("no loopback that is up")
	}

	// Events: subscribe first (GoVPP drops events nobody subscribed to), then ask VPP for them.
	notif := make(chan api.Message, 100)
	sub, err := ch.SubscribeNotification(notif, &interfaces.SwInterfaceEvent{})
	if err != nil {
		return nil, err
	}
	defer func() { _ = sub.Unsubscribe() }()
	events := &eventLog{}
	go func() {
		for m := range notif {
			if e, ok := m.(*interfaces.SwInterfaceEvent); ok {
				events.add(e)
			}
		}
	}()
	pid := uint32(os.Getpid())
	want := obj{}
	if want["retval"], err = call(ch, &interfaces.WantInterfaceEvents{EnableDisable: 1, PID: pid}, &interfaces.WantInterfaceEventsReply{}); err != nil {
		return nil, err
	}
	if want["again"], err = call(ch, &interfaces.WantInterfaceEvents{EnableDisable: 1, PID: pid}, &interfaces.WantInterfaceEventsReply{}); err != nil {
		return nil, err
	}
	out["want_events"] = want

	flags := obj{"sw_if_index": sw, "pid": pid}
	setFlags := func(idx uint32, f interface_types.IfStatusFlags) (int, error) {
		return call(ch, &interfaces.SwInterfaceSetFlags{SwIfIndex: interface_types.InterfaceIndex(idx), Flags: f}, &interfaces.SwInterfaceSetFlagsReply{})
	}
	if flags["down"], err = setFlags(sw, 0); err != nil {
		return nil, err
	}
	flags["events_down"] = events.wait(1)
	one, err := dumpInterfaces(ch, &interfaces.SwInterfaceDump{SwIfIndex: interface_types.InterfaceIndex(sw)})
	if err != nil || len(one) != 1 {
		return nil, fmt.Errorf("dump of %d: %v (%d details)", sw, err, len(one))
	}
	flags["state_down"] = one[0]
	if flags["up"], err = setFlags(sw, interface_types.IF_STATUS_API_FLAG_ADMIN_UP); err != nil {
		return nil, err
	}
	flags["events_up"] = events.wait(1)
	if flags["missing"], err = setFlags(9999, interface_types.IF_STATUS_API_FLAG_ADMIN_UP); err != nil {
		return nil, err
	}
	out["set_flags"] = flags

	addr := obj{}
	addDel := func(idx uint32, add bool, prefix string) (int, error) {
		p, err := ip_types.ParseAddressWithPrefix(prefix)
		if err != nil {
			return 0, err
		}
		return call(ch, &interfaces.SwInterfaceAddDelAddress{SwIfIndex: interface_types.InterfaceIndex(idx), IsAdd: add, Prefix: p}, &interfaces.SwInterfaceAddDelAddressReply{})
	}
	for _, step := range []struct {
		key    string
		sw     uint32
		add    bool
		prefix string
	}{
		{"add", sw, true, "10.200.0.1/24"},
		{"dup", sw, true, "10.200.0.1/24"},
		{"add6", sw, true, "2001:db8:200::1/64"},
		{"bad_if", 9999, true, "10.201.0.1/24"},
	} {
		if addr[step.key], err = addDel(step.sw, step.add, step.prefix); err != nil {
			return nil, err
		}
	}
	if addr["dump4"], err = dumpAddresses(ch, sw, false); err != nil {
		return nil, err
	}
	if addr["dump6"], err = dumpAddresses(ch, sw, true); err != nil {
		return nil, err
	}
	out["address"] = addr

	routes := obj{}
	p1, _ := nhPath(sw, "10.200.0.2")
	p2, _ := nhPath(sw, "10.200.0.3")
	p6, _ := nhPath(sw, "2001:db8:200::2")
	pBad, _ := nhPath(9999, "10.200.0.2")
	type step struct {
		isAdd, multipath bool
		table            uint32
		prefix           string
		paths            []fib_types.FibPath
	}
	addRoute := func(s step) (obj, error) {
		req, err := routeReq(s.isAdd, s.multipath, s.table, s.prefix, s.paths...)
		if err != nil {
			return nil, err
		}
		reply := &ip.IPRouteAddDelReply{}
		rv, err := call(ch, req, reply)
		if err != nil {
			return nil, err
		}
		// GoVPP does not decode a reply whose retval is an error: stats_index is VPP's ~0 then.
		idx := reply.StatsIndex
		if rv != 0 {
			idx = ^uint32(0)
		}
		return obj{"retval": rv, "stats_index": idx}, nil
	}
	adds := []obj{}
	for _, s := range []step{
		{true, false, 0, "10.99.0.0/16", []fib_types.FibPath{p1}},
		{true, false, 0, "2001:db8:99::/48", []fib_types.FibPath{p6}},
		{true, true, 0, "10.99.0.0/16", []fib_types.FibPath{p2}},
		{true, false, 77, "10.98.0.0/16", []fib_types.FibPath{p1}},
		{}, // ip_table_add_del of table 77 goes here
		{true, false, 77, "10.98.0.0/16", []fib_types.FibPath{p1}},
		{true, false, 0, "10.97.0.0/16", nil},
		{true, false, 0, "10.96.0.0/16", []fib_types.FibPath{pBad}},
	} {
		if s.prefix == "" {
			if routes["table_add"], err = call(ch, &ip.IPTableAddDel{IsAdd: true, Table: ip.IPTable{TableID: 77}}, &ip.IPTableAddDelReply{}); err != nil {
				return nil, err
			}
			continue
		}
		r, err := addRoute(s)
		if err != nil {
			return nil, err
		}
		adds = append(adds, r)
	}
	routes["add"] = adds
	if routes["dump4"], err = dumpRoutes(ch, 0, false); err != nil {
		return nil, err
	}
	if routes["dump6"], err = dumpRoutes(ch, 0, true); err != nil {
		return nil, err
	}
	if routes["dump77"], err = dumpRoutes(ch, 77, false); err != nil {
		return nil, err
	}
	tables := [][]any{}
	rc := ch.SendMultiRequest(&ip.IPTableDump{})
	for {
		d := &ip.IPTableDetails{}
		stop, err := rc.ReceiveReply(d)
		if err != nil {
			return nil, err
		}
		if stop {
			break
		}
		tables = append(tables, []any{d.Table.TableID, d.Table.IsIP6, d.Table.Name})
	}
	routes["tables"] = tables
	d1, err := addRoute(step{false, false, 0, "10.99.0.0/16", nil})
	if err != nil {
		return nil, err
	}
	d2, err := addRoute(step{false, false, 0, "10.99.0.0/16", nil})
	if err != nil {
		return nil, err
	}
	routes["del"] = []any{d1["retval"], d1["stats_index"], d2["retval"]}
	after, err := dumpRoutes(ch, 0, false)
	if err != nil {
		return nil, err
	}
	prefixes := []string{}
	for _, r := range after {
		prefixes = append(prefixes, r["prefix"].(string))
	}
	routes["dump4_after"] = prefixes
	out["routes"] = routes

	if addr["del"], err = addDel(sw, false, "10.200.0.1/24"); err != nil {
		return nil, err
	}
	if addr["del_again"], err = addDel(sw, false, "10.200.0.1/24"); err != nil {
		return nil, err
	}

	lb := obj{}
	lbReply := &interfaces.CreateLoopbackReply{}
	rv, err = call(ch, &interfaces.CreateLoopback{MacAddress: ethernet_types.MacAddress{0xde, 0xad, 0, 0, 0, 0x42}}, lbReply)
	if err != nil {
		return nil, err
	}
	lbSw := uint32(lbReply.SwIfIndex)
	lb["create"] = obj{"retval": rv, "sw_if_index": lbSw}
	if lb["details"], err = dumpInterfaces(ch, &interfaces.SwInterfaceDump{SwIfIndex: interface_types.InterfaceIndex(lbSw)}); err != nil {
		return nil, err
	}
	if lb["up"], err = setFlags(lbSw, interface_types.IF_STATUS_API_FLAG_ADMIN_UP); err != nil {
		return nil, err
	}
	lb["events_create"] = events.wait(2)
	if lb["delete"], err = call(ch, &interfaces.DeleteLoopback{SwIfIndex: interface_types.InterfaceIndex(lbSw)}, &interfaces.DeleteLoopbackReply{}); err != nil {
		return nil, err
	}
	lb["events_delete"] = events.wait(1)
	if lb["delete_again"], err = call(ch, &interfaces.DeleteLoopback{SwIfIndex: interface_types.InterfaceIndex(lbSw)}, &interfaces.DeleteLoopbackReply{}); err != nil {
		return nil, err
	}
	gone, err := dumpInterfaces(ch, &interfaces.SwInterfaceDump{SwIfIndex: interface_types.InterfaceIndex(lbSw)})
	if err != nil {
		return nil, err
	}
	lb["dump_after"] = len(gone)
	out["loopback"] = lb

	if want["off"], err = call(ch, &interfaces.WantInterfaceEvents{EnableDisable: 0, PID: pid}, &interfaces.WantInterfaceEventsReply{}); err != nil {
		return nil, err
	}
	if want["off_again"], err = call(ch, &interfaces.WantInterfaceEvents{EnableDisable: 0, PID: pid}, &interfaces.WantInterfaceEventsReply{}); err != nil {
		return nil, err
	}
	return out, nil
}

// benchRoute is an IPv4 /32 via one next hop, the address base + i.
func benchRoute(base uint32, i int, sw uint32) *ip.IPRouteAddDel {
	var a ip_types.IP4Address
	binary.BigEndian.PutUint32(a[:], base+uint32(i))
	var nh ip_types.IP4Address
	copy(nh[:], net.IPv4(10, 1, 0, 2).To4())
	return &ip.IPRouteAddDel{
		IsAdd: true,
		Route: ip.IPRoute{
			Prefix: ip_types.Prefix{Address: ip_types.Address{Af: ip_types.ADDRESS_IP4, Un: ip_types.AddressUnionIP4(a)}, Len: 32},
			NPaths: 1,
			Paths: []fib_types.FibPath{{
				SwIfIndex: sw,
				Weight:    1,
				Proto:     fib_types.FIB_API_PATH_NH_PROTO_IP4,
				Nh:        fib_types.FibPathNh{Address: ip_types.AddressUnionIP4(nh)},
			}},
		},
	}
}

func rate(n int, d time.Duration, errs int) obj {
	return obj{"seconds": d.Seconds(), "routes_per_s": float64(n) / d.Seconds(), "errors": errs}
}

func benchRoutes(conn *core.Connection, n, window int, sw uint32, warmup, passes int) (obj, error) {
	if n > 1<<21 || warmup > 1<<21 {
		return nil, fmt.Errorf("--bench-routes and --warmup are at most %d", 1<<21)
	}
	if passes < 1 || passes*n > 1<<21 {
		return nil, fmt.Errorf("--passes must be at least 1 and --passes x --bench-routes at most %d", 1<<21)
	}
	if window < 1 {
		window = 1
	}
	if warmup > 0 {
		if _, err := streamRoutes(conn, 0x64200000, warmup, window, sw); err != nil {
			return nil, fmt.Errorf("warm-up: %w", err)
		}
	}
	ch, err := conn.NewAPIChannel()
	if err != nil {
		return nil, err
	}
	defer ch.Close()

	// Sync: one request, one reply.
	errs := 0
	start := time.Now()
	for i := 0; i < n; i++ {
		reply := &ip.IPRouteAddDelReply{}
		if err := ch.SendRequest(benchRoute(0x64400000, i, sw)).ReceiveReply(reply); err != nil {
			if _, e := retval(err); e != nil {
				return nil, e
			}
			errs++
		}
	}
	syncRes := rate(n, time.Since(start), errs)
	// Pass p programs base + p*n + i: every pass adds new routes.
	rates := make([]float64, 0, passes)
	asyncErrs := 0
	for p := 0; p < passes; p++ {
		res, err := streamRoutes(conn, 0x64600000+uint32(p*n), n, window, sw)
		if err != nil {
			return nil, err
		}
		rates = append(rates, res["routes_per_s"].(float64))
		asyncErrs += res["errors"].(int)
	}
	sorted := append([]float64(nil), rates...)
	sort.Float64s(sorted)
	med := sorted[len(sorted)/2]
	asyncRes := obj{"routes_per_s": med, "seconds": float64(n) / med, "errors": asyncErrs, "passes": rates}
	return obj{"routes": n, "window": window, "warmup": warmup, "sync": syncRes, "async": asyncRes, "client": "govpp v0.13.0"}, nil
}

// streamRoutes programs n routes (base + i) pipelined on a GoVPP Stream: a sender keeps up to
// `window` requests outstanding, a receiver reads the replies.
func streamRoutes(conn *core.Connection, base uint32, n, window int, sw uint32) (obj, error) {
	stream, err := conn.NewStream(context.Background(), core.WithRequestSize(window), core.WithReplySize(window), core.WithReplyTimeout(30*time.Second))
	if err != nil {
		return nil, err
	}
	defer func() { _ = stream.Close() }()
	tokens := make(chan struct{}, window)
	sendErr := make(chan error, 1)
	start := time.Now()
	// The first exchange alone: GoVPP's Stream records the message path in SendMsg after the
	// request is written, and RecvMsg needs it, so a reply racing ahead of it is "unknown".
	if err := stream.SendMsg(benchRoute(base, 0, sw)); err != nil {
		return nil, err
	}
	first, err := stream.RecvMsg()
	if err != nil {
		return nil, fmt.Errorf("reply 0: %w", err)
	}
	errs := 0
	if r, ok := first.(*ip.IPRouteAddDelReply); !ok || r.Retval != 0 {
		errs++
	}
	go func() {
		for i := 1; i < n; i++ {
			tokens <- struct{}{}
			if err := stream.SendMsg(benchRoute(base, i, sw)); err != nil {
				sendErr <- err
				return
			}
		}
		sendErr <- nil
	}()
	for i := 1; i < n; i++ {
		msg, err := stream.RecvMsg()
		if err != nil {
			return nil, fmt.Errorf("reply %d: %w", i, err)
		}
		<-tokens
		reply, ok := msg.(*ip.IPRouteAddDelReply)
		if !ok {
			return nil, fmt.Errorf("reply %d: unexpected %s", i, msg.GetMessageName())
		}
		if reply.Retval != 0 {
			errs++
		}
	}
	if err := <-sendErr; err != nil {
		return nil, err
	}
	return rate(n, time.Since(start), errs), nil
}
