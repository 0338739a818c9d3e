from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import pytest

from matching.address import Address
from matching.frozen import constructor
from matching.postcode import Postcode


@dataclass(frozen=True, slots=True)
class Point:
    x: int
    y: str
    z: tuple[int, ...] = ()


def test_a_constructed_value_is_the_class_s_own_value() -> None:
    build = constructor(Point)
    for made, expected in (
        (build(1, "a"), Point(1, "a")),
        (build(1, "a", (2,)), Point(1, "a", (2,))),
        (build(y="b", x=2), Point(y="b", x=2)),
    ):
        assert type(made) is Point
        assert made == expected and hash(made) == hash(expected) and repr(made) == repr(expected)
        with pytest.raises(dataclasses.FrozenInstanceError):
            made.x = 3  # type: ignore[misc]


def test_the_matcher_s_values_build_alike() -> None:
    address = (frozenset({"1"}), "mill road", "leeds")
    assert constructor(Address)(*address) == Address(*address)
    postcode = ("SW", "SW1A", "SW1A 1", "SW1A 1AA")
    assert constructor(Postcode)(*postcode) == Postcode(*postcode)


def test_a_value_whose_init_does_more_is_refused() -> None:
    @dataclass(frozen=True, slots=True)
    class Later:
        x: int

        def __post_init__(self) -> None:
            pass

    @dataclass(frozen=True, slots=True)
    class Factory:
        x: list[int] = field(default_factory=list)

    @dataclass(slots=True)
    class Mutable:
        x: int

    @dataclass(frozen=True)
    class NoSlots:
        x: int

    for cls in (Later, Factory, Mutable, NoSlots):
        with pytest.raises(TypeError):
            constructor(cls)
