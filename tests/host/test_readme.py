"""README.md runs as written: its Python snippets, and the commands that replay each example configuration."""
from __future__ import annotations

import contextlib
import glob
import io
import os
import re
import runpy
import shlex
import shutil
import sys

import pytest

from host.cli import main

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
README = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
FENCE = re.compile(r"```(\w*)\n(.*?)```", re.S)


def _blocks() -> list[tuple[str, str, str]]:
    """(language, code, the prose up to the next fence) for every fenced block."""
    ms = list(FENCE.finditer(README))
    return [(m.group(1), m.group(2), README[m.end():ms[k + 1].start() if k + 1 < len(ms) else len(README)])
            for k, m in enumerate(ms)]


def test_python_snippets_run_and_print_what_the_readme_shows(monkeypatch):
    """Every ```python block, in order, in one namespace (later blocks use the
    router the first builds), from the repository root; where the README says
    what it prints, the output is that."""
    monkeypatch.chdir(ROOT)
    blocks = _blocks()
    snippets = [k for k, b in enumerate(blocks) if b[0] == "python"]
    assert len(snippets) >= 2
    ns: dict = {"__name__": "__readme__"}
    for k in snippets:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(blocks[k][1], f"README.md python block {snippets.index(k) + 1}", "exec"), ns)
        if blocks[k][2].strip() == "prints":
            assert out.getvalue() == blocks[k + 1][1], out.getvalue()
    assert ns["t"].port == 1 and ns["t"].queue == 70 and ns["t"].qid == 70 | (1 + 1) << 13


def _commands() -> list[list[str]]:
    """Every `python examples/...` and `vrouter-hil run ...` command the README gives."""
    cmds = re.findall(r"^(?:python examples/\S+|vrouter-hil run examples/[^`\n]+)$", README, re.M)
    cmds += re.findall(r"`(vrouter-hil run examples/[^`]+)`", README)
    return [shlex.split(c) for c in dict.fromkeys(c.strip() for c in cmds)]


def _rtl_configs() -> set[str]:
    """Example configurations whose NIC front-end is the Verilated RTL (need Verilator: marked rtl)."""
    return {os.path.basename(p) for p in glob.glob(os.path.join(ROOT, "examples", "*.yaml"))
            if re.search(r"^\s*backend:\s*rtl\b", open(p, encoding="utf-8").read(), re.M)}


def _replay_examples(tmp_path, monkeypatch, capsys, which) -> set[str]:
    """The README's commands, run in a copy of examples/: make_pcap.py writes a capture for
    every configuration; the configurations ``which(name)`` selects are replayed with their
    own command. Returns the names of all configurations the README gives a command for."""
    shutil.copytree(os.path.join(ROOT, "examples"), tmp_path / "examples",
                    ignore=shutil.ignore_patterns("*.pcap", "*.pcapng"))
    monkeypatch.chdir(tmp_path)
    cmds = _commands()
    runs = {os.path.basename(c[2]): c for c in cmds if c[:2] == ["vrouter-hil", "run"]}
    gen = [c for c in cmds if c[0] == "python"]
    assert gen == [["python", "examples/make_pcap.py"]]
    monkeypatch.setattr(sys, "argv", gen[0][1:])
    _run_script(gen[0][1])
    capsys.readouterr()
    for name, c in sorted(runs.items()):
        assert (tmp_path / c[c.index("--pcap") + 1]).is_file(), f"{name}: make_pcap.py wrote no traffic for it"
        if not which(name):
            continue
        rc = main(c[1:] + ["--no-progress"])
        text = capsys.readouterr().out
        assert rc == 0 and "[ok]" in text, (name, text)
        sent = re.findall(r"port\d+\.pcap \((\d+)\)", text)
        assert sum(map(int, sent)) > 0, (name, text)
    return set(runs)


def test_every_example_configuration_ships_traffic_and_runs_with_the_readme_command(tmp_path, monkeypatch, capsys):
    """Issue 13: two_port_lab.yaml and nic_frontend.yaml shipped no traffic. The
    README's commands, run in a copy of examples/: make_pcap.py writes a capture for
    every configuration, and each configuration's own command replays it
    with every packet accounted for and something sent out of the router (those with
    the RTL front-end: the next test, marked rtl)."""
    rtl = _rtl_configs()
    names = _replay_examples(tmp_path, monkeypatch, capsys, lambda name: name not in rtl)
    assert names == {os.path.basename(p) for p in glob.glob(os.path.join(ROOT, "examples", "*.yaml"))}


@pytest.mark.rtl
def test_rtl_example_configurations_run_with_the_readme_command(tmp_path, monkeypatch, capsys):
    """The example configurations with the Verilated RTL front-end (nic_frontend_rtl.yaml:
    cycle timing) replay their make_pcap.py traffic with the README's command."""
    rtl = _rtl_configs()
    assert "nic_frontend_rtl.yaml" in rtl
    _replay_examples(tmp_path, monkeypatch, capsys, lambda name: name in rtl)


def _run_script(path: str) -> None:
    with pytest.raises(SystemExit) as e:
        runpy.run_path(path, run_name="__main__")
    assert e.value.code == 0
