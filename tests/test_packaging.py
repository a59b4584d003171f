"""Packaging (issue 9, item 8): the product stands on its own, without the source tree.

CI (.ci/run) builds a wheel, installs it in a clean venv and runs the demo, a
shipped plug-in and an RTL NIC configuration from outside the repository; these
tests check, in the checkout, the rules that make that work.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from np_model import resources

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("package", ["np_model", "host", "network"])
def test_the_product_never_imports_the_testbench(package):
    offenders = []
    for f in sorted((ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(f.read_text(), str(f))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            offenders += [f"{f.relative_to(ROOT)}:{node.lineno}: {n}" for n in names
                          if n == "testbench" or n.startswith("testbench.")]
    assert not offenders, "the product imports the test package:\n" + "\n".join(offenders)


def test_in_a_checkout_the_data_folders_are_the_top_level_ones():
    assert resources.source_root() == ROOT
    assert resources.rtl_dir() == ROOT / "rtl"
    assert (resources.plugin_include_dir() / "plugin_api.h").is_file()
    assert (resources.plugin_runtime_dir() / "stub.c").is_file()
    assert (resources.plugin_runtime_dir() / "worker.c").is_file()
    assert resources.sim_build_dir() == ROOT / "sim_build"


def test_setup_packages_every_data_folder_the_product_reads():
    """setup.py's build_py copies what np_model.resources hands out, and pyproject.toml's
    package data holds the C sources the product compiles at run time from its own package
    (the plug-in worker's mailbox side in np_model/core, the co-simulation kernel): every file
    the plug-in loader, the SPP code-option builder and the RTL toolchain read is in the wheel
    (checked against the tree)."""
    import tomllib

    from np_model import code_options, plugin_loader
    from np_model.nic import toolchain

    ns: dict = {}
    tree = ast.parse((ROOT / "setup.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and node.targets[0].id == "PACKAGE_DATA_DIRS":
            ns = ast.literal_eval(node.value)
    assert set(ns) == {"rtl", "plugins"}
    covered = {p.relative_to(ROOT) for folder, pats in ns.items() for pat in pats for p in (ROOT / folder).glob(pat)}
    pkg_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    covered |= {p.relative_to(ROOT) for pkg, pats in pkg_data.items() for pat in pats
                for p in (ROOT / pkg.replace(".", "/")).glob(pat)}
    read = [*toolchain.rtl_sources("vmdq_classifier"), *plugin_loader.shipped().values(),
            *(ROOT / "plugins" / "include").glob("*.h"), plugin_loader.STUB, *plugin_loader.WORKER_SOURCES,
            *code_options.shipped().values(), code_options.COPT_STUB,
            ROOT / "np_model" / "nic" / "cosim_kernel.c", ROOT / "np_model" / "nic" / "cosim_kernel.h"]
    needed = {Path(p).resolve().relative_to(ROOT) for p in read}
    assert needed <= covered, f"not packaged: {sorted(map(str, needed - covered))}"
    assert {Path("plugins/runtime/worker.c"), Path("np_model/core/plugin_worker.c"),
            Path("plugins/code_options/ipv4.c")} <= needed


def test_caches_follow_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("VROUTER_HIL_CACHE", str(tmp_path / "c"))
    assert resources.cache_dir() == tmp_path / "c"
    monkeypatch.delenv("VROUTER_HIL_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert resources.cache_dir() == tmp_path / "x" / "vrouter-hil"
    monkeypatch.setenv("VROUTER_HIL_SIM_BUILD", str(tmp_path / "sb"))
    assert resources.sim_build_dir() == tmp_path / "sb"


def test_installed_copy_uses_the_user_cache_not_site_packages(monkeypatch, tmp_path):
    """Without a checkout around the package (a wheel), builds go to the user cache."""
    monkeypatch.setattr(resources, "source_root", lambda: None)
    monkeypatch.delenv("VROUTER_HIL_SIM_BUILD", raising=False)
    monkeypatch.setenv("VROUTER_HIL_CACHE", str(tmp_path))
    assert resources.sim_build_dir() == tmp_path / "sim_build"
    with pytest.raises(FileNotFoundError, match="reinstall"):
        resources.data_dir("rtl")
    with pytest.raises(ValueError, match="valid: rtl, plugins"):
        resources.data_dir("docs")
