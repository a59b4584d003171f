"""Building C plug-ins: gcc, a content-hash cache, and per-block cycle weights.

A plug-in is one C file written against ``plugins/include/plugin_api.h``
(in an installed wheel, the package-data copy: see np_model/resources.py).
It is compiled with gcc's basic-block instrumentation
(``-fsanitize-coverage=trace-pc``) and linked with the runtime stub into a
shared object; ``objdump`` then gives, for every instrumented block, how
many instructions it holds -- the ALU cycles the block costs an ME each
time it runs (see np_model/core/plugin_rt.c for the whole cost model).

Builds are cached by a hash of everything that decides what is cached: the
source, the API headers, the stub, the flags, the compiler's and binutils'
versions, and this loader's own code (which measures the block weights, the
globals and the load-time code the checks below read), so loading the same
plug-in again costs nothing and two checkouts sharing the user cache never
take each other's measurements. The checks themselves (the limits given to
``build``: local memory, control store) are applied to every build, cached or
not. A plug-in may live in any directory; the shipped ones (``plugins/*.c``)
can be named by their stem.

A plug-in whose object has constructors, destructors or IFUNC resolvers is
refused: that code would run when the worker loads the plug-in, before its
system-call filter is in place. ``worker_program()`` builds (and caches) the
worker process plug-ins run in (``plugins/runtime/worker.c``).
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import resources

__all__ = ["PluginBuild", "PluginCompileError", "build", "resolve", "shipped", "worker_program", "PLUGIN_DIR",
           "LOCAL_MEMORY_BYTES"]

# the shipped plug-ins, the API headers, the runtime stub and the worker's main: package data of
# an installed wheel, or plugins/ of a checkout (np_model.resources); the worker's mailbox side is
# part of the core's sources (np_model/core/plugin_worker.c, package data too)
PLUGIN_DIR = resources.plugin_dir()
INCLUDE = resources.plugin_include_dir()
STUB = resources.plugin_runtime_dir() / "stub.c"
WORKER = resources.plugin_runtime_dir() / "worker.c"
CORE = Path(__file__).resolve().parent / "core"
WORKER_SOURCES = [WORKER, CORE / "plugin_worker.c", CORE / "plugin_worker.h", INCLUDE / "vrh_plugin_abi.h"]
WORKER_FLAGS = ["-std=gnu11", "-O2", "-Wall", "-U_FORTIFY_SOURCE", "-pthread"]
USER_FLAGS = ["-std=gnu11", "-O2", "-fPIC", "-fsanitize-coverage=trace-pc", "-fno-stack-protector",
              "-Wall", "-Werror=implicit-function-declaration"]
STUB_FLAGS = ["-std=gnu11", "-O2", "-fPIC", "-fvisibility=hidden"]
LOCAL_MEMORY_BYTES = 2560          # 640 words of ME local memory [C HRM p.39-40]
CONTROL_STORE = 8192               # instructions in an ME's control store [C HRM]


class PluginCompileError(ValueError):
    """The plug-in does not build; the message names the file and line."""

    def __init__(self, message: str, output: str = ""):
        super().__init__(message)
        self.output = output


@dataclass(frozen=True)
class PluginBuild:
    name: str
    source: Path
    so_path: Path
    offsets: np.ndarray          # return addresses of the block hooks, relative to the object
    weights: np.ndarray          # instructions in each block
    data_bytes: int              # the plug-in's globals (its local memory)


def shipped() -> dict[str, Path]:
    """The plug-ins shipped in plugins/, by name."""
    return {p.stem: p for p in sorted(PLUGIN_DIR.glob("*.c"))}


def resolve(source: str | os.PathLike) -> Path:
    """A path to a C file, or the name of a shipped plug-in."""
    p = Path(source)
    if p.suffix == ".c" or p.exists() or os.sep in str(source):
        if not p.is_file():
            raise FileNotFoundError(f"plug-in source {p} does not exist")
        return p.resolve()
    names = shipped()
    if str(source) in names:
        return names[str(source)]
    raise FileNotFoundError(f"no plug-in named {source!r}: give a .c file or one of {', '.join(names)}")


def _cache_dir() -> Path:
    return resources.cache_dir() / "plugins"


@functools.cache
def _tool_version(tool: str) -> str:
    """First line of ``tool --version`` (cached for the process)."""
    return subprocess.run([tool, "--version"], capture_output=True, text=True, check=True).stdout.split("\n")[0]


def _gcc_version() -> str:
    return _tool_version("gcc")


#: this module's own code: how a build is measured (block weights, globals, load-time code) and
#: what is written to the cache; part of every cache key, so a loader that measures differently
#: (another checkout, another version) sharing the user cache never reuses these measurements
_LOADER_DIGEST = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()


def _key(src: Path, stub: Path = STUB) -> str:
    """The cache key of ``src``'s build: everything that decides the cached object and its
    measurements (not the limits given to ``build``: those are checked on every load)."""
    h = hashlib.sha256()
    headers = [f.read_bytes() for f in sorted(INCLUDE.glob("*.h"))]
    for part in (src.read_bytes(), *headers, stub.read_bytes(), " ".join(USER_FLAGS + STUB_FLAGS).encode(),
                 _gcc_version().encode(), *(_tool_version(t).encode() for t in ("objdump", "size", "readelf")),
                 _LOADER_DIGEST.encode()):
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()[:24]


_ERR = re.compile(r"^(?P<file>[^:\n]+):(?P<line>\d+):(?:(?P<col>\d+):)?\s*(?:fatal )?error:\s*(?P<msg>.*)$", re.M)


def _compile_error(src: Path, out: str) -> PluginCompileError:
    m = _ERR.search(out)
    if m:
        f = m.group("file")
        where = src if Path(f).name == src.name else Path(f)
        return PluginCompileError(f"{where}:{m.group('line')}: {m.group('msg')}", out)
    return PluginCompileError(f"{src}: does not compile: {out.strip().splitlines()[-1] if out.strip() else 'gcc failed'}",
                              out)


def _run(cmd: list[str], src: Path) -> str:
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise _compile_error(src, p.stderr + p.stdout)
    return p.stdout


def _sections(obj: Path) -> dict[str, int]:
    """Section name -> size in bytes of an object file."""
    out = subprocess.run(["size", "-A", str(obj)], capture_output=True, text=True, check=True).stdout
    secs: dict[str, int] = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].startswith(".") and parts[1].isdigit():
            secs[parts[0]] = secs.get(parts[0], 0) + int(parts[1])
    return secs


def _data_bytes(secs: dict[str, int]) -> int:
    """Bytes of writable globals (.data*, .bss*) in the user's object."""
    return sum(n for name, n in secs.items() if name.startswith(".data") or name.startswith(".bss"))


_LOAD_TIME = (".init_array", ".preinit_array", ".fini_array", ".ctors", ".dtors", ".init", ".fini")


def _load_time_code(obj: Path, secs: dict[str, int]) -> str | None:
    """What in the user's object would run when it is loaded, or None."""
    found = [n for n in secs if any(n == s or n.startswith(s + ".") for s in _LOAD_TIME)]
    if found:
        return f"a constructor or destructor ({', '.join(sorted(found))})"
    out = subprocess.run(["readelf", "-sW", str(obj)], capture_output=True, text=True, check=True).stdout
    ifuncs = [line.split()[-1] for line in out.splitlines() if " IFUNC " in line]
    if ifuncs:
        return f"an IFUNC resolver ({', '.join(ifuncs)})"
    return None


_INSN = re.compile(r"^\s*([0-9a-f]+):\s+(\S+)\s*(.*)$")
_FUNC = re.compile(r"^[0-9a-f]+ <([^>]+)>:$")


def _is_nop(mn: str, ops: str) -> bool:
    return mn.startswith("nop") or mn in ("data16", "cs", "endbr64") or (mn == "xchg" and ops.startswith("%ax,%ax"))


def block_weights(so: Path) -> tuple[np.ndarray, np.ndarray]:
    """(return address of each block hook, instructions in that block).

    With trace-pc every basic block starts with a call to the hook, so a
    block is the instructions from one hook call to the next, stopping after
    an unconditional jump or return; a function's prologue (before its first
    hook) belongs to its first block. No-ops (alignment padding) are free.
    """
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", str(so)], capture_output=True, text=True,
                         check=True).stdout
    funcs: list[list[tuple[int, str, str]]] = []
    for line in out.splitlines():
        if _FUNC.match(line):
            funcs.append([])
            continue
        m = _INSN.match(line)
        if m and funcs:
            funcs[-1].append((int(m.group(1), 16), m.group(2), m.group(3)))
    offs, ws = [], []
    for ins in funcs:
        hooks = [i for i, (_, mn, ops) in enumerate(ins) if mn.startswith("call") and "__sanitizer_cov_trace_pc" in ops]
        if not hooks:
            continue
        prologue = sum(1 for _, mn, ops in ins[:hooks[0]] if not _is_nop(mn, ops))
        for j, hi in enumerate(hooks):
            end = hooks[j + 1] if j + 1 < len(hooks) else len(ins)
            n = 0
            for _, mn, ops in ins[hi + 1:end]:
                if _is_nop(mn, ops):
                    continue
                n += 1
                if mn in ("ret", "jmp") or mn.startswith("ret") or mn == "jmpq":
                    break
            if hi + 1 < len(ins):
                offs.append(ins[hi + 1][0])
                ws.append(max(1, n + (prologue if j == 0 else 0)))
    return np.array(offs, dtype=np.uint32), np.array(ws, dtype=np.uint16)


def _refuse(src: Path, data: int, load_time: str, local_memory_bytes: int = LOCAL_MEMORY_BYTES) -> None:
    """The plug-in rules a build must keep (checked on every build, cached or not)."""
    if load_time:
        raise PluginCompileError(
            f"{src}: it has {load_time}, code that would run when the plug-in is loaded; a plug-in's "
            "code may run only from its entry points (set-up belongs in plugin_init_user)")
    if data > local_memory_bytes:
        raise PluginCompileError(
            f"{src}: its global variables take {data} bytes; an ME's local memory holds "
            f"{local_memory_bytes}: keep larger state in plug-in SRAM (onl_api_sram_read/write)")


def _defined_functions(obj: Path) -> set[str]:
    """Global functions an object file defines (nm: type T)."""
    out = subprocess.run(["nm", "--defined-only", "-g", str(obj)], capture_output=True, text=True)
    return {f[2] for f in (ln.split() for ln in out.stdout.splitlines()) if len(f) == 3 and f[1] == "T"}


def _check_entries(src: Path, obj: Path, required: tuple[str, ...], header: str) -> None:
    missing = [f for f in required if f not in _defined_functions(obj)]
    if missing:
        raise PluginCompileError(f"{src}: does not define {', '.join(missing)}, which plugins/include/{header} "
                                 f"requires (entry points: {', '.join(required)})")


def build(source: str | os.PathLike, name: str | None = None, *, local_memory_bytes: int = LOCAL_MEMORY_BYTES,
          control_store: int = CONTROL_STORE, stub: Path = STUB,
          entries: tuple[str, ...] = ("handle_pkt_user",), header: str = "plugin_api.h") -> PluginBuild:
    """Compile (or fetch from the cache) the plug-in ``source``; refuse one whose
    globals exceed the ME's local memory, whose code exceeds its control store, or
    that has code that would run at load time. ``stub``: the runtime stub linked
    with it (``plugins/runtime/copt_stub.c`` for an SPP code option, which
    np_model.code_options builds with this function); ``entries``: the functions the
    source must define (named, with ``header``, in the error if one is missing)."""
    src = resolve(source)
    key = _key(src, stub)
    d = _cache_dir() / key
    so, meta = d / "plugin.so", d / "weights.json"
    if not (so.exists() and meta.exists()):
        d.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=d.parent, prefix=".build-"))
        try:
            inc = ["-I", str(INCLUDE)]
            _run(["gcc", *USER_FLAGS, *inc, "-c", str(src), "-o", str(tmp / "user.o")], src)
            _check_entries(src, tmp / "user.o", entries, header)
            secs = _sections(tmp / "user.o")
            data = _data_bytes(secs)
            load_time = _load_time_code(tmp / "user.o", secs) or ""
            _refuse(src, data, load_time, local_memory_bytes)
            _run(["gcc", *STUB_FLAGS, *inc, "-c", str(stub), "-o", str(tmp / "stub.o")], stub)
            _run(["gcc", "-shared", "-Wl,-z,defs", "-o", str(tmp / "plugin.so"), str(tmp / "user.o"),
                  str(tmp / "stub.o")], src)
            offs, ws = block_weights(tmp / "plugin.so")
            (tmp / "weights.json").write_text(json.dumps({"offsets": offs.tolist(), "weights": ws.tolist(),
                                                          "data_bytes": data, "load_time": load_time,
                                                          "source": str(src)}))
            try:
                os.rename(tmp, d)                        # atomic: concurrent builds agree
            except OSError:
                shutil.rmtree(tmp, ignore_errors=True)   # another process built it first
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    w = json.loads(meta.read_text())
    _refuse(src, int(w["data_bytes"]), w["load_time"], local_memory_bytes)   # also for builds cached before
    code = int(sum(w["weights"]))
    if code > control_store:
        raise PluginCompileError(f"{src}: its code has {code} instructions; an ME's control store holds "
                                 f"{control_store}")
    return PluginBuild(name=name or src.stem, source=src, so_path=so,
                       offsets=np.array(w["offsets"], dtype=np.uint32), weights=np.array(w["weights"], dtype=np.uint16),
                       data_bytes=int(w["data_bytes"]))


def worker_program() -> Path:
    """The plug-in worker program, compiled with gcc on first use and cached
    by a hash of its sources, flags and the compiler's version."""
    h = hashlib.sha256()
    for part in (*(f.read_bytes() for f in WORKER_SOURCES), " ".join(WORKER_FLAGS).encode(), _gcc_version().encode()):
        h.update(hashlib.sha256(part).digest())
    d = _cache_dir() / f"worker-{h.hexdigest()[:24]}"
    exe = d / "vrh-plugin-worker"
    if exe.exists():
        return exe
    d.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=d.parent, prefix=".build-"))
    try:
        _run(["gcc", *WORKER_FLAGS, "-I", str(CORE), "-I", str(INCLUDE), "-o", str(tmp / "vrh-plugin-worker"),
              str(WORKER), str(CORE / "plugin_worker.c"), "-ldl"], WORKER)
        try:
            os.rename(tmp, d)                            # atomic: concurrent builds agree
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)       # another process built it first
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return exe
