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


def test_every_example_configuration_ships_traffic_and_runs_with_the_readme_command(tmp_path, monkeypatch, capsys):
    """Issue 13: two_port_lab.yaml and nic_frontend.yaml shipped no traffic. The
    README's commands, run in a copy of examples/: make_pcap.py writes a capture
    for every configuration, and each configuration's own command replays it
    with every packet accounted for and something sent out of the router."""
    shutil.copytree(os.path.join(ROOT, "examples"), tmp_path / "examples",
                    ignore=shutil.ignore_patterns("*.pcap", "*.pcapng"))
    monkeypatch.chdir(tmp_path)
    cmds = _commands()
    configs = {os.path.basename(p) for p in glob.glob(os.path.join(ROOT, "examples", "*.yaml"))}
    runs = {os.path.basename(c[2]): c for c in cmds if c[:2] == ["vrouter-hil", "run"]}
    assert set(runs) == configs
    gen = [c for c in cmds if c[0] == "python"]
    assert gen == [["python", "examples/make_pcap.py"]]
    monkeypatch.setattr(sys, "argv", gen[0][1:])
    _run_script(gen[0][1])
    capsys.readouterr()
    for name, c in sorted(runs.items()):
        assert (tmp_path / c[c.index("--pcap") + 1]).is_file(), f"{name}: make_pcap.py wrote no traffic for it"
        rc = main(c[1:] + ["--no-progress"])
        text = capsys.readouterr().out
        assert rc == 0 and "[ok]" in text, (name, text)
        sent = re.findall(r"port\d+\.pcap \((\d+)\)", text)
        assert sum(map(int, sent)) > 0, (name, text)


def _run_script(path: str) -> None:
    with pytest.raises(SystemExit) as e:
        runpy.run_path(path, run_name="__main__")
    assert e.value.code == 0
