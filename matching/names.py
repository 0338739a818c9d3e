"""Name variant data (nicknames, diminutives, transliterations), loaded once from the bundled files."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

from matching.normalise import normalise_name


@dataclass(frozen=True, slots=True)
class VariantGroups:
    """Which groups each normalised name belongs to; two names are variants when they share a group."""

    groups_of: dict[str, frozenset[int]]

    def are_variants(self, a: str, b: str) -> bool:
        groups_a = self.groups_of.get(a)
        groups_b = self.groups_of.get(b)
        return groups_a is not None and groups_b is not None and not groups_a.isdisjoint(groups_b)

    def known(self, name: str) -> bool:
        return name in self.groups_of

    def canonical(self, name: str) -> str:
        """A stable representative (smallest group id) used as a blocking key; the name itself if unknown."""
        groups = self.groups_of.get(name)
        return f"#{min(groups)}" if groups else name


def parse_groups(text: str) -> VariantGroups:
    groups_of: dict[str, set[int]] = {}
    group_id = 0
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        for raw in line.split(","):
            name = normalise_name(raw).joined
            if name:
                groups_of.setdefault(name, set()).add(group_id)
        group_id += 1
    return VariantGroups({name: frozenset(ids) for name, ids in groups_of.items()})


def _load(filename: str) -> VariantGroups:
    return parse_groups(resources.files("matching").joinpath(filename).read_text(encoding="utf-8"))


@cache
def given_name_variants() -> VariantGroups:
    return _load("given_name_variants.txt")


@cache
def known_given_names() -> frozenset[str]:
    """Names recognised without the registry: every name in a variant group, and given_names.txt.

    given_names.txt lists real common names of children in England and Wales (ONS tables), written
    independently of the synthetic generator (the old list was seeded from the generator's pools,
    which made the evaluation easier than real data). Beyond these, a given name is recognised once
    the registry counts ``known_name_min_count`` learners with it (``Context.is_known_given_name``).
    """
    text = resources.files("matching").joinpath("given_names.txt").read_text(encoding="utf-8")
    listed = {n for line in text.splitlines() if not line.startswith("#") for n in line.split()}
    return frozenset(listed | given_name_variants().groups_of.keys())


@cache
def family_name_variants() -> VariantGroups:
    return _load("family_name_variants.txt")
