"""docs/conformance.md: every RFC 1812 section of 4.2-4.3 and 5.2-5.3 has a
row, every row a valid status, every implemented (or partial, or deliberately
deviating) row at least one test, and every named test exists."""
from __future__ import annotations

import ast
import re
from pathlib import Path

from host.config import SLOW_PATH_KEYS

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "conformance.md"
STATUSES = {"implemented", "partial", "deviates", "not implemented", "not applicable"}
NEEDS_TESTS = {"implemented", "partial", "deviates"}
SECTIONS = (
    ["4.2.1"] + [f"4.2.2.{i}" for i in range(1, 12)] + [f"4.2.3.{i}" for i in range(1, 5)]
    + ["4.3.1"] + [f"4.3.2.{i}" for i in range(1, 9)] + [f"4.3.3.{i}" for i in range(1, 11)]
    + ["5.2.1", "5.2.1.1", "5.2.1.2", "5.2.1.3", "5.2.2", "5.2.3"] + [f"5.2.4.{i}" for i in range(1, 6)]
    + ["5.2.5", "5.2.6", "5.2.7.1", "5.2.7.2", "5.2.7.3", "5.2.8"]
    + ["5.3.1", "5.3.2", "5.3.3.1", "5.3.3.2", "5.3.3.3", "5.3.4", "5.3.5.1", "5.3.5.2", "5.3.5.3", "5.3.5.4",
       "5.3.6", "5.3.7", "5.3.8", "5.3.9", "5.3.10", "5.3.11", "5.3.12"]
    + [f"5.3.13.{i}" for i in range(1, 7)] + ["5.3.14"]
)
_TEST = re.compile(r"`([\w/]+\.py)::(\w+)`")


def _rows() -> list[dict[str, str]]:
    rows, header = [], None
    for line in DOC.read_text().splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = cells
        elif not set(line) <= set("|-: "):
            rows.append(dict(zip(header, cells)))
    return rows


def _defined(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}


def test_every_section_has_a_row_with_a_valid_status():
    rows = [r for r in _rows() if "§" in r]
    assert len(rows) > 100
    seen = set()
    for r in rows:
        assert r["Status"] in STATUSES, f"{r['§']}: status {r['Status']!r}; valid: {sorted(STATUSES)}"
        seen |= {s.strip() for s in r["§"].split(",")}
    missing = [s for s in SECTIONS if s not in seen]
    assert not missing, f"RFC 1812 sections without a row: {missing}"


def test_implemented_rows_name_tests_that_exist():
    cache: dict[Path, set[str]] = {}
    checked = 0
    for r in _rows():
        status = r.get("Status")
        tests = _TEST.findall(r.get("Tests", ""))
        if status in NEEDS_TESTS:
            assert tests, f"{r.get('§', r.get('Source'))} is {status} but names no test"
        for file, name in tests:
            path = ROOT / "tests" / file
            assert path.is_file(), f"{file} named in docs/conformance.md does not exist"
            if path not in cache:
                cache[path] = _defined(path)
            assert name in cache[path], f"{file}::{name} named in docs/conformance.md does not exist"
            checked += 1
    assert checked > 100


def test_keys_are_slow_path_keys():
    for r in _rows():
        for key in re.findall(r"`(\w+)`", r.get("Key", "")):
            assert key in SLOW_PATH_KEYS, f"{r['§']}: {key!r} is not a slow_path key; valid: {SLOW_PATH_KEYS}"
