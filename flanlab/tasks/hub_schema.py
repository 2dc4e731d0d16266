"""Does a loaded hub split have the fields an entry declares? (``HubCatalogue`` checks after every load; the
manifest tests check the declarations.)

Declared fields must be present with a compatible type: the same kind of value (text, integer, float, bool),
ClassLabels with the same names in the same order, lists of compatible items (a fixed length is fine), structs
with compatible members. A plain integer where a ClassLabel is declared is accepted (parquet re-uploads sometimes
drop the label names) and cast to the declaration. Extra columns are fine.
"""

from __future__ import annotations

from typing import Any

import datasets

_KINDS = {"string": "text", "large_string": "text", "bool": "bool"}


def _kind(dtype: str) -> str:
    if dtype in _KINDS:
        return _KINDS[dtype]
    if dtype.startswith(("int", "uint")):
        return "integer"
    if dtype.startswith("float"):
        return "float"
    return dtype


def _describe(feature: Any) -> str:
    if isinstance(feature, datasets.ClassLabel):
        return f"ClassLabel{feature.names}"
    if isinstance(feature, datasets.Value):
        return feature.dtype
    return type(feature).__name__


def _items(feature: Any) -> Any | None:
    """The item feature of a list-like feature, or None."""
    if isinstance(feature, datasets.List | datasets.Sequence | datasets.LargeList):
        return feature.feature
    if isinstance(feature, list) and len(feature) == 1:
        return feature[0]
    return None


def feature_problem(declared: Any, found: Any, path: str) -> str | None:
    """Why ``found`` (loaded) cannot stand for ``declared`` at field ``path``, or None."""
    if isinstance(declared, datasets.ClassLabel):
        if isinstance(found, datasets.ClassLabel):
            ok = list(found.names) == list(declared.names)
            return None if ok else f"field {path!r} has labels {found.names}, declared {declared.names}"
        if isinstance(found, datasets.Value) and _kind(found.dtype) == "integer":
            return None
        return f"field {path!r} is {_describe(found)}, declared {_describe(declared)}"
    if isinstance(declared, datasets.Value):
        if isinstance(found, datasets.Value) and _kind(found.dtype) == _kind(declared.dtype):
            return None
        return f"field {path!r} is {_describe(found)}, declared {_describe(declared)}"
    if isinstance(declared, datasets.Translation):
        langs = getattr(found, "languages", None)
        if isinstance(found, datasets.Translation) and sorted(langs) == sorted(declared.languages):
            return None
        if isinstance(found, dict) and set(declared.languages) <= set(found):
            return None
        return f"field {path!r} is {_describe(found)}, declared Translation{declared.languages}"
    if (inner := _items(declared)) is not None:
        found_inner = _items(found)
        if found_inner is None:
            return f"field {path!r} is {_describe(found)}, declared a list"
        return feature_problem(inner, found_inner, f"{path}[]")
    if isinstance(declared, dict):
        if not isinstance(found, dict):
            return f"field {path!r} is {_describe(found)}, declared a struct"
        return next((p for k, v in declared.items() if (p := member_problem(v, found, k, path))), None)
    return None


def member_problem(declared: Any, found: dict, key: str, path: str) -> str | None:
    if key not in found:
        return f"field {path + '.' + key!r} is missing"
    return feature_problem(declared, found[key], f"{path}.{key}")


def schema_problems(declared: datasets.Features, found: datasets.Features) -> list[str]:
    """Every declared field that ``found`` lacks or types differently (extra fields in ``found`` are fine)."""
    problems = []
    for name, feature in declared.items():
        if name not in found:
            problems.append(f"field {name!r} is missing")
        elif problem := feature_problem(feature, found[name], name):
            problems.append(problem)
    return problems


def conform(rows: datasets.Dataset, declared: datasets.Features) -> datasets.Dataset:
    """``rows`` with the declared columns only, cast to the declaration where the loaded types differ (after
    ``schema_problems`` found none)."""
    rows = rows.select_columns(list(declared))
    return rows if rows.features == declared else rows.cast(declared)
