// govpp-exporter: the speed peer for vpp-exporter's scrape benchmark. The way a Go shop would
// build a VPP exporter today: GoVPP's stats connection (go.fd.io/govpp/core.ConnectStats) read on
// every scrape, and client_golang const metrics, one per value, served on /metrics.
//
//	govpp-exporter --socket /run/vpp/stats.sock --listen 127.0.0.1:9490
package main

import (
	"flag"
	"log"
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.fd.io/govpp/adapter/statsclient"
	"go.fd.io/govpp/api"
	"go.fd.io/govpp/core"
)

type collector struct {
	stats *core.StatsConnection
	ifc   map[string]*prometheus.Desc
	node  map[string]*prometheus.Desc
	err   *prometheus.Desc
}

func newCollector(stats *core.StatsConnection) *collector {
	c := &collector{stats: stats, ifc: map[string]*prometheus.Desc{}, node: map[string]*prometheus.Desc{}}
	for _, n := range []string{
		"rx_packets", "rx_bytes", "tx_packets", "tx_bytes", "rx_error_packets", "tx_error_packets",
		"rx_unicast_packets", "rx_unicast_bytes", "rx_multicast_packets", "rx_multicast_bytes",
		"rx_broadcast_packets", "rx_broadcast_bytes", "tx_unicast_packets", "tx_unicast_bytes",
		"tx_multicast_packets", "tx_multicast_bytes", "tx_broadcast_packets", "tx_broadcast_bytes",
		"drops_packets", "punt_packets", "ip4_packets", "ip6_packets", "rx_no_buf_packets",
		"rx_miss_packets", "mpls_packets",
	} {
		c.ifc[n] = prometheus.NewDesc("vpp_interface_"+n+"_total", "VPP interface counter "+n, []string{"interface", "sw_if_index"}, nil)
	}
	for _, n := range []string{"calls", "vectors", "suspends", "clocks"} {
		c.node[n] = prometheus.NewDesc("vpp_node_"+n+"_total", "VPP node counter "+n, []string{"node"}, nil)
	}
	c.err = prometheus.NewDesc("vpp_error_total", "VPP error counter", []string{"counter"}, nil)
	return c
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.ifc {
		ch <- d
	}
	for _, d := range c.node {
		ch <- d
	}
	ch <- c.err
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	var ifs api.InterfaceStats
	if err := c.stats.GetInterfaceStats(&ifs); err != nil {
		log.Printf("interface stats: %v", err)
	}
	for _, i := range ifs.Interfaces {
		l := []string{i.InterfaceName, strconv.FormatUint(uint64(i.InterfaceIndex), 10)}
		put := func(n string, v uint64) { ch <- prometheus.MustNewConstMetric(c.ifc[n], prometheus.CounterValue, float64(v), l...) }
		put("rx_packets", i.Rx.Packets)
		put("rx_bytes", i.Rx.Bytes)
		put("tx_packets", i.Tx.Packets)
		put("tx_bytes", i.Tx.Bytes)
		put("rx_error_packets", i.RxErrors)
		put("tx_error_packets", i.TxErrors)
		put("rx_unicast_packets", i.RxUnicast.Packets)
		put("rx_unicast_bytes", i.RxUnicast.Bytes)
		put("rx_multicast_packets", i.RxMulticast.Packets)
		put("rx_multicast_bytes", i.RxMulticast.Bytes)
		put("rx_broadcast_packets", i.RxBroadcast.Packets)
		put("rx_broadcast_bytes", i.RxBroadcast.Bytes)
		put("tx_unicast_packets", i.TxUnicast.Packets)
		put("tx_unicast_bytes", i.TxUnicast.Bytes)
		put("tx_multicast_packets", i.TxMulticast.Packets)
		put("tx_multicast_bytes", i.TxMulticast.Bytes)
		put("tx_broadcast_packets", i.TxBroadcast.Packets)
		put("tx_broadcast_bytes", i.TxBroadcast.Bytes)
		put("drops_packets", i.Drops)
		put("punt_packets", i.Punts)
		put("ip4_packets", i.IP4)
		put("ip6_packets", i.IP6)
		put("rx_no_buf_packets", i.RxNoBuf)
		put("rx_miss_packets", i.RxMiss)
		put("mpls_packets", i.Mpls)
	}
	var nodes api.NodeStats
	if err := c.stats.GetNodeStats(&nodes); err != nil {
		log.Printf("node stats: %v", err)
	}
	for _, n := range nodes.Nodes {
		ch <- prometheus.MustNewConstMetric(c.node["calls"], prometheus.CounterValue, float64(n.Calls), n.NodeName)
		ch <- prometheus.MustNewConstMetric(c.node["vectors"], prometheus.CounterValue, float64(n.Vectors), n.NodeName)
		ch <- prometheus.MustNewConstMetric(c.node["suspends"], prometheus.CounterValue, float64(n.Suspends), n.NodeName)
		ch <- prometheus.MustNewConstMetric(c.node["clocks"], prometheus.CounterValue, float64(n.Clocks), n.NodeName)
	}
	var errs api.ErrorStats
	if err := c.stats.GetErrorStats(&errs); err != nil {
		log.Printf("error stats: %v", err)
	}
	for _, e := range errs.Errors {
		var sum uint64
		for _, v := range e.Values {
			sum += v
		}
		ch <- prometheus.MustNewConstMetric(c.err, prometheus.CounterValue, float64(sum), e.CounterName)
	}
}

func main() {
	socket := flag.String("socket", "/run/vpp/stats.sock", "VPP stats socket")
	listen := flag.String("listen", "127.0.0.1:9490", "listen address")
	flag.Parse()
	statsclient.Log.Out = log.Writer()
	stats, err := core.ConnectStats(statsclient.NewStatsClient(*socket))
	if err != nil {
		log.Fatalf("connect %s: %v", *socket, err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(newCollector(stats))
	http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	log.Printf("listening on %s", *listen)
	log.Fatal(http.ListenAndServe(*listen, nil))
}
