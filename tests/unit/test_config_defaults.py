"""Defaults live only in YAML (issue 26): code reads the composed config without fallbacks, so a missing key is a
clear error, not a silent second default. Any ``.get(...)`` on a config object in ``flanlab/`` fails this test.

A config object is a parameter annotated ``DictConfig``, or a name bound to an attribute of one inside the same
function (``data_cfg = cfg.data``)."""

from __future__ import annotations

import ast

from tests.conftest import ROOT


def config_gets(source: str, filename: str = "<src>") -> list[str]:
    """``file:line: call`` for each ``.get(...)`` on a config object in ``source``."""
    found = []
    for fn in ast.walk(ast.parse(source)):
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        args = [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]
        names = {a.arg for a in args if a.annotation is not None and "DictConfig" in ast.unparse(a.annotation)}
        for node in ast.walk(fn):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Attribute) and _root(node.value) in names:
                names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        for node in ast.walk(fn):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
                    and _root(node.func.value) in names):
                found.append(f"{filename}:{node.lineno}: {ast.unparse(node)}")
    return found


def _root(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def test_no_config_get_with_a_fallback_in_the_package():
    found = [hit for path in sorted((ROOT / "flanlab").rglob("*.py"))
             for hit in config_gets(path.read_text(), str(path.relative_to(ROOT)))]
    assert found == []


def test_the_check_finds_what_it_looks_for():
    source = '''
def stage(cfg: DictConfig, other: dict) -> None:
    data_cfg = cfg.data
    a = cfg.train.get("batching", "random")
    b = data_cfg.get("on_leak")
    c = other.get("fine", 1)
'''
    assert config_gets(source) == ['<src>:4: cfg.train.get("batching", "random")'.replace('"', "'"),
                                   "<src>:5: data_cfg.get('on_leak')"]
