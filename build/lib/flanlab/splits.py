"""Which clusters train and which are held out, following FLAN's related-cluster rules.

Holding out a cluster removes it from training, and also every cluster that the rules list as
related to it (e.g. NLI and paraphrase, in both directions). The result validates itself: a
``Split`` whose training clusters meet a held-out or related cluster cannot be built.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from flanlab.errors import ConfigError, unknown


@dataclass(frozen=True)
class Split:
    """Held-out clusters, the clusters that train, and why the others were dropped."""

    heldout: tuple[str, ...]
    train: tuple[str, ...]
    removed: Mapping[str, str] = field(default_factory=dict)
    eval_only: bool = False

    def __post_init__(self) -> None:
        leaked = set(self.train) & (set(self.heldout) | set(self.removed))
        if leaked:
            raise ConfigError(f"split leaks held-out or related clusters into training: {sorted(leaked)}")
        if not self.train and not self.eval_only:
            raise ConfigError(
                f"holding out {list(self.heldout)} leaves no training cluster (config key `heldout.clusters`)"
            )

    def as_dict(self) -> dict:
        return {"heldout": list(self.heldout), "train": list(self.train), "removed": dict(self.removed)}


def make_split(
    all_clusters: Iterable[str],
    heldout: Iterable[str],
    related: Mapping[str, Iterable[str]] | None = None,
    train_only: Iterable[str] | None = None,
    eval_only: bool = False,
) -> Split:
    """Build the split for ``heldout`` clusters.

    ``related`` maps a cluster to the clusters that must leave training with it.
    ``train_only`` optionally restricts training to these clusters (the num-clusters study).
    ``eval_only`` allows every cluster to be held out (nothing trains: the untuned baseline).
    """
    clusters = list(dict.fromkeys(all_clusters))
    heldout = tuple(dict.fromkeys(heldout))
    if not heldout:
        raise ConfigError("no held-out cluster given (config key `heldout.clusters`)")
    for name in heldout:
        if name not in clusters:
            raise unknown("cluster", name, clusters, key="heldout.clusters")
    removed: dict[str, str] = {}
    for name in heldout:
        for other in (related or {}).get(name, ()):
            if other in clusters and other not in heldout and other not in removed:
                removed[other] = f"related to held-out cluster {name!r}"
    train = [c for c in clusters if c not in heldout and c not in removed]
    if train_only is not None:
        keep = list(train_only)
        for name in keep:
            if name not in clusters:
                raise unknown("cluster", name, clusters, key="heldout.train_only")
        for name in train:
            if name not in keep:
                removed[name] = "not in train_only"
        train = [c for c in train if c in keep]
    return Split(heldout=heldout, train=tuple(train), removed=removed, eval_only=eval_only)
