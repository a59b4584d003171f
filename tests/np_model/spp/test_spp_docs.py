"""docs/spp_np.md runs as written: its Python snippet prints what it shows."""
from __future__ import annotations

import contextlib
import io
import os
import re

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
FENCE = re.compile(r"```(\w*)\n(.*?)```", re.S)


def test_the_snippet_prints_what_the_doc_shows(monkeypatch):
    text = open(os.path.join(ROOT, "docs", "spp_np.md"), encoding="utf-8").read()
    ms = list(FENCE.finditer(text))
    k = next(i for i, m in enumerate(ms) if m.group(1) == "python")
    assert text[ms[k].end():ms[k + 1].start()].strip() == "prints"
    monkeypatch.chdir(ROOT)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(ms[k].group(2), "docs/spp_np.md", "exec"), {"__name__": "__doc__"})
    assert out.getvalue() == ms[k + 1].group(2)
