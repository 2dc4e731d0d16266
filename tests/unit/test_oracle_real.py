"""The oracle on real catalogues (issue 24): tasks without a dev split choose their template on their first train
rows, which the oracle then never trains on; a held-out task's scored row that recurs in its *own* train split is
allowed by design (reported apart), while a copy in any other training task is still a leak."""

from __future__ import annotations

from flanlab.audit import leakage_audit
from flanlab.data.mixture import build_mixture
from flanlab.splits import make_split
from flanlab.tasks.catalogue import LocalCatalogue
from flanlab.tasks.spec import TaskSpec, Template


def _task(name: str, cluster: str) -> TaskSpec:
    return TaskSpec(name=name, cluster=cluster, display_name=name, kind="classification", input_fields=("text",),
                    options=("no", "yes"), templates=(Template("t", "{text}\nTrue?\n{options}"),))


def _catalogue(shared_in_other_task: bool = False) -> LocalCatalogue:
    rows = lambda prefix, n: [{"text": f"{prefix} sentence number {i}", "label": i % 2} for i in range(n)]  # noqa: E731
    held = rows("held", 30)
    scored = [held[3], *rows("scored", 5)]  # the first scored row recurs in the task's own train split
    other = rows("other", 30) + ([dict(scored[1])] if shared_in_other_task else [])
    return LocalCatalogue({"held": (_task("held", "nli"), {"train": held, "validation": scored}),
                           "other": (_task("other", "sentiment"), {"train": other, "validation": rows("ov", 4)})},
                          source="test")


def test_excluded_rows_never_train_and_no_exclusion_changes_nothing():
    catalogue = _catalogue()
    split = make_split(catalogue.clusters, ["nli"], {}, None)
    common = {"max_per_task": 25, "seed": 0, "tasks": ["held", "other"], "train_heldout": True}
    plain = build_mixture(catalogue, split, "instruction", **common)
    again = build_mixture(catalogue, split, "instruction", **common, exclude={})
    oracle = build_mixture(catalogue, split, "instruction", **common, exclude={"held": range(6)})
    assert plain.row_indices == again.row_indices and plain.fingerprint() == again.fingerprint()
    assert not set(oracle.row_indices["held"]) & set(range(6)) and len(oracle.row_indices["held"]) == 24
    assert oracle.row_indices["other"] == plain.row_indices["other"]


def test_own_split_repeats_are_allowed_by_design_and_other_tasks_copies_still_leak():
    catalogue = _catalogue()
    split = make_split(catalogue.clusters, ["nli"], {}, None)
    scored = {"held": catalogue.eval_data("held")}
    train = {"held": list(range(30)), "other": list(range(30))}
    strict = leakage_audit(catalogue, split, train, scored)
    assert strict["exact_duplicates"] == 1 and strict["leaks"]
    oracle = leakage_audit(catalogue, split, train, scored, allowed=["held"])
    assert oracle["exact_duplicates"] == 0 and oracle["leaks"] == []
    assert oracle["allowed_by_design"]["tasks"] == ["held"] and oracle["allowed_by_design"]["exact"] == 1
    leaky = _catalogue(shared_in_other_task=True)
    other = leakage_audit(leaky, split, {"held": list(range(30)), "other": list(range(31))},
                          {"held": leaky.eval_data("held")}, allowed=["held"])
    assert other["exact_duplicates"] == 1 and other["duplicate_examples"][0]["train_task"] == "other"
