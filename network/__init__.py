"""The virtual network substrate: NP routers, VLAN-aware switches and end
hosts on one simulated time base, joined by links (issue 11).

``network.topology.load_topology`` builds a ``Network`` from a YAML file;
``network.run.run_topology`` runs it and writes its outputs
(``vrouter-hil net``). The pieces: ``sim`` (links, conservative
synchronisation, the compiled fabric for routers: np_model.engine.fabric),
``node`` (the message interface), ``machine_node`` (an NP
assembly behind it, driven on its own or in the compiled fabric), ``router``
(an NPR with its slow path and control plane), ``assembly_node`` (an SPP
line card or NPE), ``host`` (IPv4 stack), ``tools``
(ping, traceroute, UDP flows, pcap replay), ``switch`` (802.1Q learning
bridge), ``ledger`` (conservation), ``capture`` (pcapng per link).
"""
from .host import Host
from .ledger import Ledger, NetworkConservation
from .node import EventNode, Node
from .router import RouterNode
from .sim import MIN_DELAY_NS, Link, Network, SimError
from .switch import Switch, SwitchPort
from .tools import Ping, Replay, Traceroute, UdpFlow

__all__ = ["Network", "Link", "Node", "EventNode", "RouterNode", "Host", "Switch", "SwitchPort", "Ping",
           "Traceroute", "UdpFlow", "Replay", "Ledger", "NetworkConservation", "MIN_DELAY_NS", "SimError"]
