#!/usr/bin/env python3
"""Dump a VPP stats segment with vpp-papi's own reader (FD.io's `vpp_papi.vpp_stats.VPPStats`).

Usage: papi_stats.py --socket PATH [--json] [--list] [REGEX...]

An independent test peer: the segment is read and decoded by vpp-papi only (this file only
converts vpp-papi's Python objects to plain JSON shapes):
  scalar, gauge          -> number
  simple counter         -> [thread][index]
  combined counter       -> [thread][index] = [packets, bytes]
  name vector            -> [string]  (vpp-papi drops NULL elements, see README.md)
  symlink                -> the linked column per thread: [thread] (combined: [packets, bytes])
  histogram (log2)       -> per-thread bins (vpp-papi strips bin[0] = min_exp)
  ring buffer            -> vpp-papi's ring buffer config dict (no fixture has one)
  EMPTY directory slots  -> omitted
REGEX arguments select names the way vpp-papi's ls() does (re.match, any of them); none = all.
--json prints json.dumps(obj, sort_keys=True) and a newline; --list prints the names, one a line;
otherwise "name: value" lines.
"""
import argparse
import json
import sys

from vpp_papi.vpp_stats import VPPStats, StatsHistogramLog2, StatsRingBuffer

STAT_DIR_TYPE_EMPTY = 5


def plain(value):
    """vpp-papi's result objects (list/tuple subclasses, helper classes) -> JSON-able values."""
    if isinstance(value, StatsHistogramLog2):
        return [plain(b) for b in value.bins]
    if isinstance(value, StatsRingBuffer):
        return value.get_config()
    if isinstance(value, (list, tuple)):  # StatsSimpleList, StatsCombinedList, StatsTuple, ...
        return [plain(v) for v in value]
    if value is None or isinstance(value, (int, float, str)):
        return value
    raise TypeError("unexpected value from vpp-papi: %r (%s)" % (value, type(value).__name__))


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--socket", required=True, help="stats socket path (SEQPACKET, fd passing)")
    ap.add_argument("--json", action="store_true", help="one JSON object name -> value")
    ap.add_argument("--list", action="store_true", help="names only")
    ap.add_argument("patterns", nargs="*", metavar="REGEX")
    args = ap.parse_args(argv)

    stats = VPPStats(socketname=args.socket)
    stats.connect()
    try:
        names = stats.ls(args.patterns or [".*"])
        # vpp-papi keeps EMPTY slots in its directory (under their name, "" once freed) and
        # decodes them as None; they are not stats, so they are left out.
        names = sorted(n for n in names if stats.directory[n].type != STAT_DIR_TYPE_EMPTY)
        if args.list:
            sys.stdout.write("".join(n + "\n" for n in names))
            return 0
        out = {name: plain(value) for name, value in stats.dump(names).items()}
    finally:
        stats.disconnect()
    if args.json:
        sys.stdout.write(json.dumps(out, sort_keys=True) + "\n")
    else:
        for name in names:
            sys.stdout.write("%s: %s\n" % (name, json.dumps(out[name])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
