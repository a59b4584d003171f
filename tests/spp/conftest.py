"""An SPP node between two hosts, for the node-level tests.

    h1 (64.57.23.209) --- spp:0 (64.57.23.210) [SPP] spp:1 (64.57.23.214) --- h2 (64.57.23.213)
"""
from __future__ import annotations

import ipaddress
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
IF0, IF1, H1, H2 = "64.57.23.210", "64.57.23.214", "64.57.23.209", "64.57.23.213"
H1_MAC, H2_MAC = "02:00:00:00:01:02", "02:00:00:00:02:02"
LC0_MAC, LC1_MAC = "02:5b:00:00:00:01", "02:5b:00:00:00:02"


class Node:
    """The network, the SPP, both hosts, and what crossed each host's link."""

    def __init__(self, rate: float = 1e9, gpe_cores: float = 2.0):
        from network import Host, Network
        from network.spp import SPP, ExternalInterface, GPESpec
        self.net = Network()
        self.spp = SPP(self.net, "spp",
                       [ExternalInterface(f"{IF0}/30", LC0_MAC, int(rate), peer=H1, peer_mac=H1_MAC),
                        ExternalInterface(f"{IF1}/30", LC1_MAC, int(rate), peer=H2, peer_mac=H2_MAC)],
                       gpes=[GPESpec(cores=gpe_cores)])
        self.h1 = self.net.add_node(Host("h1", f"{H1}/30", H1_MAC, tx_queue=100_000))
        self.h2 = self.net.add_node(Host("h2", f"{H2}/30", H2_MAC, tx_queue=100_000))
        self.h1.arp[ipaddress.IPv4Address(IF0).packed] = (bytes.fromhex(LC0_MAC.replace(":", "")), float("inf"))
        self.h2.arp[ipaddress.IPv4Address(IF1).packed] = (bytes.fromhex(LC1_MAC.replace(":", "")), float("inf"))
        self.l1 = self.net.add_link("h1", 0, *self.spp.port(0), rate_bps=rate, delay_ns=1000, name="site1")
        self.l2 = self.net.add_link("h2", 0, *self.spp.port(1), rate_bps=rate, delay_ns=1000, name="site2")
        # what reached each host over its link (the links may run in the compiled fabric)
        self.seen: dict[str, list[bytes]] = {"site1": [], "site2": []}
        for h, log in ((self.h1, self.seen["site1"]), (self.h2, self.seen["site2"])):
            def receive(port, fr, orig=h.receive, log=log):
                log.append(fr)
                orig(port, fr)
            h.receive = receive

    def to_host(self, site: str) -> list[bytes]:
        """Frames the SPP sent toward the host of ``site`` (the link loses none)."""
        return list(self.seen[site])

    def ipv4_slice(self, name: str, port: int, *, fastpath: bool = True, mi_kbps: int = 100_000,
                   share: float = 0.5, routes_in_slowpath: bool = True, extra_filters=()):
        """A slice routing 10.2.0.0/16 to h2:port and 10.1.0.0/16 to h1:port: in
        its fast path (the ARCH example's MIs and queues) or its slow path."""
        from host.spp.slowpaths import IPv4SlowPath
        routes = [{"prefix": "10.2.0.0/16", "next_hop": f"{H2}:{port}", "via": f"{IF1}:{port}"},
                  {"prefix": "10.1.0.0/16", "next_hop": f"{H1}:{port}", "via": f"{IF0}:{port}"}]
        sp = IPv4SlowPath(routes=routes if (routes_in_slowpath or not fastpath) else [], local=["10.0.0.1"])
        api = self.spp.add_slice(name, sp, gpe_share=share, queue=1024)
        e1, e2 = api.alloc_endpoint(IF0, port), api.alloc_endpoint(IF1, port)
        if not fastpath:
            api.resrv_pl_ifbw(0, mi_kbps)
            api.resrv_pl_ifbw(1, mi_kbps)
        fp = None
        if fastpath:
            fp = api.alloc_fastpath("ipv4", firm=2 * mi_kbps + 2000, fltrs=8, qs=4, stats=8, buffs=2048, sram=4096)
            api.create_mi(fp, 0, kbps=2000)
            api.create_mi(fp, 1, e1, kbps=mi_kbps)
            api.create_mi(fp, 2, e2, kbps=mi_kbps)
            for q, mi in ((0, 1), (1, 2), (2, 0), (3, 0)):
                api.bind_queue(fp, q, mi, threshold=1 << 18)
            api.write_fltr(fp, {"in_mi": 1, "dst": "10.2.0.0/16"},
                           {"mi": 2, "queue": 1, "stats": 0, "next_hop": f"{H2}:{port}"})
            api.write_fltr(fp, {"in_mi": 2, "dst": "10.1.0.0/16"},
                           {"mi": 1, "queue": 0, "stats": 1, "next_hop": f"{H1}:{port}"})
            for k, r in extra_filters:
                api.write_fltr(fp, k, r)
        self.spp.boot()
        return api, fp, sp

    def boot(self) -> None:
        self.spp.boot()


@pytest.fixture
def node():
    pytest.importorskip("np_model.assemblies.spp_linecard")
    return Node()
