"""Name variant data (nicknames, diminutives, transliterations), loaded once from the bundled files."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources

from nicknames import name_triplets

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


def _listed_groups(text: str) -> Iterator[list[str]]:
    """One group per non-comment line, comma-separated."""
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            yield line.split(",")


def group_names(groups: Iterable[Iterable[str]]) -> VariantGroups:
    groups_of: dict[str, set[int]] = {}
    for group_id, group in enumerate(groups):
        for raw in group:
            name = normalise_name(raw).joined
            if name:
                groups_of.setdefault(name, set()).add(group_id)
    return VariantGroups({name: frozenset(ids) for name, ids in groups_of.items()})


def parse_groups(text: str) -> VariantGroups:
    return group_names(_listed_groups(text))


def _read(filename: str) -> str:
    return resources.files("matching").joinpath(filename).read_text(encoding="utf-8")


def nickname_package_groups() -> list[list[str]]:
    """The maintained ``nicknames`` package's English names, each with its nicknames as one group
    (William: Bill, Billy, Will, Willie, Willy, ...). A nickname of two names is in both groups; two
    nicknames of one name are variants of each other (Bill / Will)."""
    groups: dict[str, list[str]] = {}
    for triplet in name_triplets():
        groups.setdefault(triplet.name1, [triplet.name1]).append(triplet.name2)
    return list(groups.values())


@cache
def given_name_variants() -> VariantGroups:
    """The ``nicknames`` package's groups and the project's own list of what it lacks."""
    return group_names([*nickname_package_groups(), *_listed_groups(_read("given_name_variants.txt"))])


@cache
def birth_names() -> frozenset[str]:
    """Names children are given at birth: given_names.txt, real common names of children in England
    and Wales (ONS tables), written independently of the synthetic generator."""
    text = _read("given_names.txt")
    return frozenset(n for line in text.splitlines() if not line.startswith("#") for n in line.split())


def _name_dictionary_entries(text: str) -> Iterator[str]:
    """The names of gender-guesser's nam_dict.txt (Jörg Michael's dictionary of first names: about
    48,000 names with their frequency in each of 55 countries); columns 3-29 hold the name, "+"
    joins the parts of a compound one."""
    for line in text.splitlines():
        if line and not line.startswith("#") and len(line) > 30:
            yield line[3:29].strip().replace("+", " ")


@cache
def real_given_names() -> frozenset[str]:
    """Names someone is actually given, from a maintained dictionary of first names across Europe,
    South Asia, the Middle East, Africa and East Asia (gender-guesser's nam_dict.txt), with the
    birth names: twins are given two of these, a typo rarely makes one (Amh, Lep, Kylwc)."""
    text = resources.files("gender_guesser").joinpath("data/nam_dict.txt").read_text(encoding="utf-8")
    names = {normalise_name(entry).joined for entry in _name_dictionary_entries(text)}
    return frozenset(names - {""}) | birth_names()


@cache
def known_given_names() -> frozenset[str]:
    """Names recognised without the registry: the birth names and every name in a variant group.

    Beyond these, a given name is recognised once the registry counts ``known_name_min_count``
    learners with it (``Context.is_known_given_name``)."""
    return birth_names() | given_name_variants().groups_of.keys()


@cache
def family_name_variants() -> VariantGroups:
    return parse_groups(_read("family_name_variants.txt"))
