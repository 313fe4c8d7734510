#!/usr/bin/env python3
"""FD.io's vpp-papi (VPPApiClient) driving a VPP binary API socket: the test peer of the
simulator's API side (test/sim/api-papi.test.ts).

    papi_api.py --apidir DIR --socket PATH

Connects like any papi program (VPPApiClient(apidir=[DIR], server_address=PATH)), runs a fixed
scenario and prints what VPP answered as one JSON object on stdout. Decoding is vpp-papi's own;
this script only turns its named tuples into plain JSON. The scenario:

  show_version; sw_interface_dump; want_interface_events; sw_interface_set_flags down/up on the
  first loopback and on a missing index, waiting for the events; sw_interface_add_del_address +
  ip_address_dump (+ its errors); ip_route_add_del IPv4/IPv6/multipath/missing table + ip_route_dump
  + delete; create_loopback / sw_interface_dump of it / delete_loopback (+ events); disconnect.
"""
import argparse
import json
import os
import sys
import threading
import time

from vpp_papi import VPPApiClient

NO_LABELS = [{"is_uniform": 0, "label": 0, "ttl": 0, "exp": 0}] * 16


def path(sw_if_index, nh, proto=0, table_id=0, weight=1):
    key = "ip6" if proto == 1 else "ip4"
    return {
        "sw_if_index": sw_if_index,
        "table_id": table_id,
        "rpf_id": 0,
        "weight": weight,
        "preference": 0,
        "type": 0,
        "flags": 0,
        "proto": proto,
        "nh": {"address": {key: nh}, "via_label": 0, "obj_id": 0, "classify_table_index": 0},
        "n_labels": 0,
        "label_stack": NO_LABELS,
    }


def iface(d):
    return {
        "sw_if_index": d.sw_if_index,
        "sup_sw_if_index": d.sup_sw_if_index,
        "name": d.interface_name,
        "dev_type": d.interface_dev_type,
        "flags": int(d.flags),
        "type": int(d.type),
        "link_mtu": d.link_mtu,
        "mtu": list(d.mtu),
        "mac": str(d.l2_address),
        "sub_id": d.sub_id,
        "sub_outer_vlan_id": d.sub_outer_vlan_id,
    }


def route(r):
    def nh(p):
        return str(p.nh.address.ip6 if int(p.proto) == 1 else p.nh.address.ip4)

    return {
        "prefix": str(r.route.prefix),
        "table_id": r.route.table_id,
        "stats_index": r.route.stats_index,
        "paths": [
            {"sw_if_index": p.sw_if_index, "type": int(p.type), "proto": int(p.proto), "nh": nh(p), "weight": p.weight}
            for p in r.route.paths
        ],
    }


def bench_routes(c, n):
    # vpp-papi is synchronous: each request waits for its reply (the baseline the seed asks for).
    c.connect("papi-bench")
    sw = next(d.sw_if_index for d in c.api.sw_interface_dump() if d.sw_if_index != 0)
    start = time.perf_counter()
    errors = 0
    for i in range(n):
        a = 0x64A00000 + i
        prefix = "%d.%d.%d.%d/32" % (a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255)
        r = c.api.ip_route_add_del(
            is_add=True,
            is_multipath=False,
            route={"table_id": 0, "prefix": prefix, "n_paths": 1, "paths": [path(sw, "10.0.0.2")]},
        )
        if r.retval != 0:
            errors += 1
    secs = time.perf_counter() - start
    c.disconnect()
    print(json.dumps({"routes": n, "seconds": secs, "routes_per_second": n / secs, "errors": errors}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--apidir", required=True)
    ap.add_argument("--socket", required=True)
    ap.add_argument("--bench-routes", type=int, default=0, help="program N /32 routes one at a time, print routes/s")
    args = ap.parse_args()

    c = VPPApiClient(apidir=[args.apidir], server_address=args.socket, read_timeout=10)
    if args.bench_routes:
        bench_routes(c, args.bench_routes)
        return
    events = []
    lock = threading.Lock()

    def on_event(name, msg):
        if name == "sw_interface_event":
            with lock:
                events.append({"sw_if_index": msg.sw_if_index, "flags": int(msg.flags), "deleted": bool(msg.deleted), "pid": msg.pid})

    def wait_events(n, timeout=5.0):
        end = time.time() + timeout
        while time.time() < end:
            with lock:
                if len(events) >= n:
                    break
            time.sleep(0.01)
        with lock:
            got = list(events)
            events.clear()
        return got

    c.register_event_callback(on_event)
    c.connect("papi-sim-test")
    out = {"socket_index": c.transport.socket_index}

    v = c.api.show_version()
    out["version"] = {"retval": v.retval, "program": v.program, "version": v.version, "build_date": v.build_date}
    out["ping"] = {"retval": c.api.control_ping().retval}

    out["interfaces"] = [iface(d) for d in c.api.sw_interface_dump()]
    out["filtered"] = [d.interface_name for d in c.api.sw_interface_dump(name_filter_valid=True, name_filter="LOOP")]
    loop = next(i for i in out["interfaces"] if i["dev_type"] == "Loopback" and i["flags"] == 3)
    sw = loop["sw_if_index"]

    r = c.api.want_interface_events(enable_disable=1, pid=os.getpid())
    again = c.api.want_interface_events(enable_disable=1, pid=os.getpid())
    out["want_events"] = {"retval": r.retval, "again": again.retval}

    down = c.api.sw_interface_set_flags(sw_if_index=sw, flags=0)
    ev_down = wait_events(1)
    state_down = iface(c.api.sw_interface_dump(sw_if_index=sw)[0])
    up = c.api.sw_interface_set_flags(sw_if_index=sw, flags=1)
    ev_up = wait_events(1)
    missing = c.api.sw_interface_set_flags(sw_if_index=9999, flags=1)
    out["set_flags"] = {
        "sw_if_index": sw,
        "down": down.retval,
        "up": up.retval,
        "missing": missing.retval,
        "events_down": ev_down,
        "events_up": ev_up,
        "state_down": state_down,
        "pid": os.getpid(),
    }

    add = c.api.sw_interface_add_del_address(sw_if_index=sw, is_add=True, prefix="10.200.0.1/24")
    dup = c.api.sw_interface_add_del_address(sw_if_index=sw, is_add=True, prefix="10.200.0.1/24")
    add6 = c.api.sw_interface_add_del_address(sw_if_index=sw, is_add=True, prefix="2001:db8:200::1/64")
    dump4 = [str(a.prefix) for a in c.api.ip_address_dump(sw_if_index=sw, is_ipv6=False)]
    dump6 = [str(a.prefix) for a in c.api.ip_address_dump(sw_if_index=sw, is_ipv6=True)]
    bad_if = c.api.sw_interface_add_del_address(sw_if_index=9999, is_add=True, prefix="10.201.0.1/24")
    out["address"] = {"add": add.retval, "dup": dup.retval, "add6": add6.retval, "dump4": dump4, "dump6": dump6, "bad_if": bad_if.retval}

    routes = {}
    r1 = c.api.ip_route_add_del(
        is_add=True, route={"table_id": 0, "prefix": "10.99.0.0/16", "n_paths": 1, "paths": [path(sw, "10.200.0.2")]}
    )
    r6 = c.api.ip_route_add_del(
        is_add=True,
        route={"table_id": 0, "prefix": "2001:db8:99::/48", "n_paths": 1, "paths": [path(sw, "2001:db8:200::2", proto=1)]},
    )
    mp = c.api.ip_route_add_del(
        is_add=True,
        is_multipath=True,
        route={"table_id": 0, "prefix": "10.99.0.0/16", "n_paths": 1, "paths": [path(sw, "10.200.0.3")]},
    )
    no_table = c.api.ip_route_add_del(
        is_add=True, route={"table_id": 77, "prefix": "10.98.0.0/16", "n_paths": 1, "paths": [path(sw, "10.200.0.2")]}
    )
    table = c.api.ip_table_add_del(is_add=True, table={"table_id": 77, "is_ip6": False, "name": ""})
    in_table = c.api.ip_route_add_del(
        is_add=True, route={"table_id": 77, "prefix": "10.98.0.0/16", "n_paths": 1, "paths": [path(sw, "10.200.0.2")]}
    )
    no_paths = c.api.ip_route_add_del(is_add=True, route={"table_id": 0, "prefix": "10.97.0.0/16", "n_paths": 0, "paths": []})
    bad_nh_if = c.api.ip_route_add_del(
        is_add=True, route={"table_id": 0, "prefix": "10.96.0.0/16", "n_paths": 1, "paths": [path(9999, "10.200.0.2")]}
    )
    routes["add"] = [
        {"retval": x.retval, "stats_index": x.stats_index} for x in (r1, r6, mp, no_table, in_table, no_paths, bad_nh_if)
    ]
    routes["table_add"] = table.retval
    routes["dump4"] = [route(x) for x in c.api.ip_route_dump(table={"table_id": 0, "is_ip6": False})]
    routes["dump6"] = [route(x) for x in c.api.ip_route_dump(table={"table_id": 0, "is_ip6": True})]
    routes["dump77"] = [route(x) for x in c.api.ip_route_dump(table={"table_id": 77, "is_ip6": False})]
    routes["tables"] = [(t.table.table_id, bool(t.table.is_ip6), t.table.name) for t in c.api.ip_table_dump()]
    d1 = c.api.ip_route_add_del(is_add=False, route={"table_id": 0, "prefix": "10.99.0.0/16", "n_paths": 0, "paths": []})
    d_again = c.api.ip_route_add_del(is_add=False, route={"table_id": 0, "prefix": "10.99.0.0/16", "n_paths": 0, "paths": []})
    routes["del"] = [d1.retval, d1.stats_index, d_again.retval]
    routes["dump4_after"] = [x["prefix"] for x in (route(y) for y in c.api.ip_route_dump(table={"table_id": 0, "is_ip6": False}))]
    out["routes"] = routes

    dele = c.api.sw_interface_add_del_address(sw_if_index=sw, is_add=False, prefix="10.200.0.1/24")
    dele_again = c.api.sw_interface_add_del_address(sw_if_index=sw, is_add=False, prefix="10.200.0.1/24")
    out["address"]["del"] = dele.retval
    out["address"]["del_again"] = dele_again.retval

    lb = c.api.create_loopback(mac_address="de:ad:00:00:00:42")
    lb_details = [iface(d) for d in c.api.sw_interface_dump(sw_if_index=lb.sw_if_index)]
    lb_up = c.api.sw_interface_set_flags(sw_if_index=lb.sw_if_index, flags=1)
    ev_create = wait_events(2)
    lb_del = c.api.delete_loopback(sw_if_index=lb.sw_if_index)
    ev_delete = wait_events(1)
    lb_del_again = c.api.delete_loopback(sw_if_index=lb.sw_if_index)
    gone = c.api.sw_interface_dump(sw_if_index=lb.sw_if_index)
    out["loopback"] = {
        "create": {"retval": lb.retval, "sw_if_index": lb.sw_if_index},
        "details": lb_details,
        "up": lb_up.retval,
        "events_create": ev_create,
        "delete": lb_del.retval,
        "events_delete": ev_delete,
        "delete_again": lb_del_again.retval,
        "dump_after": len(gone),
    }

    off = c.api.want_interface_events(enable_disable=0, pid=os.getpid())
    off_again = c.api.want_interface_events(enable_disable=0, pid=os.getpid())
    out["want_events"]["off"] = off.retval
    out["want_events"]["off_again"] = off_again.retval

    out["disconnect"] = c.disconnect()
    json.dump(out, sys.stdout, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
