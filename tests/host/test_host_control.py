"""Control plane: tables through a validated API, FIB install time, handlers by name."""
from __future__ import annotations

import pytest
from scapy.layers.inet import ICMP, IP

from host.control import ControlError
from host.handlers import HandlerError
from tests.helpers import host_ip, host_mac, routed, udp_frame
from tests.host.hostlab import icmp_error, make_lab


def test_routes_add_list_delete():
    lab = make_lab(fib_install_us=0)
    cp = lab.cp
    r = cp.add_route("192.168.7.0/24", 3, host_ip(3), qid=70, priority=40)
    assert (r.installed, r.origin, r.qid) == (True, "static", 70)
    listed = {d["prefix"]: d for d in cp.list_routes()}
    assert listed["192.168.7.0/24"]["next_hop"] == host_ip(3)
    assert listed["10.0.1.0/24"]["origin"] == "connected" and listed["10.0.1.1/32"]["origin"] == "local"
    assert len(listed) == 11
    f = udp_frame(0, "192.168.7.9")
    lab.send(f, 0)
    lab.run_us(50)
    assert lab.out(3) == [routed(f, 3, host_mac(3))]
    assert lab.r.transmitted(3)[0].queue == 70
    cp.del_route("192.168.7.0/24")
    assert "192.168.7.0/24" not in {d["prefix"] for d in cp.list_routes()}
    lab.send(f, 0)
    lab.run_us(100)
    assert lab.r.exceptions() == {"no_route": 1}


def test_fib_install_takes_modelled_time():
    lab = make_lab(fib_install_us=300)
    lab.run_us(10)
    t0 = lab.r.now_ns
    lab.cp.add_route("192.168.7.0/24", 3, host_ip(3))
    lab.cp.add_route("192.168.8.0/24", 3, host_ip(3))                 # queued behind the first write
    assert lab.cp.read("control.fib_pending") == 2
    early = udp_frame(0, "192.168.7.9", ipid=1)
    late = [udp_frame(0, "192.168.7.9", ipid=2), udp_frame(0, "192.168.8.9", ipid=3)]
    lab.send(early, 0, at_ns=t0 + 200e3)
    for f in late:
        lab.send(f, 0, at_ns=t0 + 650e3)
    lab.run_us(800)
    # before the write is done the router has no route and says so; after, it forwards
    assert lab.out(0) == [icmp_error(bytes(early[IP]), in_port=0, to_port=0, icmp=ICMP(type=3, code=0))]
    assert lab.out(3) == [routed(f, 3, host_mac(3)) for f in late]
    assert lab.cp.read("control.fib_pending") == 0
    assert all(d["installed"] for d in lab.cp.list_routes())


@pytest.mark.parametrize("call,message", [
    (lambda cp: cp.add_route("192.168.7.0/24", 7, "10.0.8.2"), "output port 7 does not exist; valid ports: 0..4"),
    (lambda cp: cp.add_route("192.168.7.0/24", 1, "10.0.3.2"), "next hop 10.0.3.2 is not on port 1's subnet"),
    (lambda cp: cp.add_route("192.168.7.1/24", 1), "has host bits set; did you mean 192.168.7.0/24?"),
    (lambda cp: cp.add_route("192.168.7.0/33", 1), "is not an IPv4 prefix"),
    (lambda cp: cp.add_route("192.168.5.0/24", 2, "10.0.3.2"), "exists; delete it first"),
    (lambda cp: cp.add_route("10.0.2.0/24", 2), "is the connected route of port 1"),
    (lambda cp: cp.add_route("192.168.7.0/24", 1, qid=9000), "queue id must be an integer 0..8191"),
    (lambda cp: cp.add_route("192.168.7.0/24", 1, priority=61), "route priority must be an integer 0..60"),
    (lambda cp: cp.add_route("192.168.7.0/24", 1, mac="01:00:5e:00:00:01"), "group (multicast) address"),
    (lambda cp: cp.del_route("192.168.9.0/24"), "no route for 192.168.9.0/24"),
    (lambda cp: cp.del_route("10.0.1.1/32"), "is the local route of port 0"),
    (lambda cp: cp.add_filter(action="forward"), "valid: queue, drop, plugin, multicast, host"),
    (lambda cp: cp.add_filter(action="queue", port=5), "filter output port 5 does not exist"),
    (lambda cp: cp.add_filter(priority=64), "filter priority must be an integer 0..63"),
    (lambda cp: cp.add_filter(aux=True, sample=0.3), "valid: 1.0, 0.5, 0.25, 0.125"),
    (lambda cp: cp.add_filter(proto="sctp"), "protocol 'sctp' unknown"),
    (lambda cp: cp.add_filter(action="multicast"), "a multicast filter needs ports"),
    (lambda cp: cp.del_filter(99), "no filter 99"),
    (lambda cp: cp.set_queue(1, 8192, threshold=1000), "queue id must be an integer 0..8191"),
    (lambda cp: cp.set_queue(1, 64), "needs a threshold, a quantum or both"),
    (lambda cp: cp.set_port_rate(1, 500), "must be an integer 683..1048576"),
    (lambda cp: cp.set_arp("10.9.0.5", "02:00:00:00:09:05"), "is on no port's subnet"),
    (lambda cp: cp.set_arp("10.0.1.1", "02:00:00:00:09:05"), "is the router's own address"),
    (lambda cp: cp.set_arp("10.0.1.5", "02:00:00:00:09"), "is not a MAC address"),
    (lambda cp: cp.del_arp("10.0.1.77"), "no ARP entry for 10.0.1.77"),
    (lambda cp: cp.load_plugin("nonexistent.c", 0), "plug-in source nonexistent.c does not exist"),
    (lambda cp: cp.load_plugin("countz", 0), "no plug-in named 'countz': give a .c file or one of count"),
    (lambda cp: cp.plugin_message(6, "=counts"), "plug-in ME must be an integer 0..4"),
    (lambda cp: cp.plugin_message(2, "=counts"), "no plug-in on ME 2; loaded: none"),
    (lambda cp: cp.unload_plugin(0), "no plug-in on ME 0; loaded: none"),
])
def test_invalid_requests_are_rejected_and_change_nothing(call, message):
    lab = make_lab(fib_install_us=0)
    cp = lab.cp
    cp.add_route("192.168.5.0/24", 4, host_ip(4))
    fid = cp.add_filter(action="drop", dst="192.168.6.0/24")
    before = (cp.list_routes(), cp.list_filters(), cp.list_arp(), cp.list_queues(), lab.r.port_rate_kbps(1))
    with pytest.raises(ControlError, match=message.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")):
        call(cp)
    assert (cp.list_routes(), cp.list_filters(), cp.list_arp(), cp.list_queues(), lab.r.port_rate_kbps(1)) == before
    assert cp.read("control.rejected") == 1
    # and the tables still forward and filter as before
    f, g = udp_frame(0, "192.168.5.1"), udp_frame(0, "192.168.6.1")
    lab.send(f, 0)
    lab.send(g, 0)
    lab.run_us(100)
    assert lab.out() == [routed(f, 4, host_mac(4))]
    assert lab.r.drops() == {"filter_drop": 1} and fid == 1


def test_filters_queues_and_port_rate():
    lab = make_lab(fib_install_us=0)
    cp = lab.cp
    fid = cp.add_filter(action="queue", port=2, qid=100, dst="10.0.2.0/24", proto="udp", dport=53)
    cp.set_queue(2, 100, threshold=20_000, quantum=1500)
    assert cp.set_port_rate(2, 100_000) == 99_718                        # a multiple of 683 Kb/s
    f = udp_frame(0, host_ip(1), dport=53)
    lab.send(f, 0)
    lab.run_us(100)
    [t] = lab.r.transmitted()
    assert (t.port, t.queue) == (2, 100)
    assert cp.list_filters()[0]["id"] == fid and cp.list_queues() == [{"port": 2, "qid": 100, "threshold": 20_000,
                                                                      "quantum": 1500}]
    assert cp.read("queues.port2.q100.enq_pkts") == 1
    cp.del_filter(fid)
    lab.send(f, 0)
    lab.run_us(100)
    assert lab.r.transmitted()[-1].port == 1


def test_counters_are_read_by_name():
    lab = make_lab()
    lab.send(udp_frame(0, host_ip(2), ttl=1), 0)
    lab.run_us(200)
    cp = lab.cp
    assert cp.read("ports.port0.rx_pkts") == 1                # the router's own figures
    assert cp.read("exceptions.ttl_expired") == 1
    assert cp.read("drops.exc_ring_full") == 0                 # a reason with no drops still reads 0
    assert cp.read("host.icmp.time_exceeded") == 1             # the slow path's
    assert cp.read("host.slowpath.received.ttl_expired") == 1
    assert cp.read("mes.plc0.threads") == 8
    assert cp.read("conservation.ok") is True
    names = cp.names()
    assert {"host.arp.requests_sent", "ports.port4.tx_pkts", "control.routes"} <= set(names)
    with pytest.raises(HandlerError, match="did you mean host.icmp.time_exceeded"):
        cp.read("host.icmp.time_exceded")
    cp.write("host.reset")
    assert cp.read("host.icmp.time_exceeded") == 0
    with pytest.raises(HandlerError, match="write handlers: control.reset, host.reset"):
        cp.write("ports.port0.rx_pkts", 0)
