"""A cheaper way to build the frozen values made once per candidate record.

A frozen dataclass's ``__init__`` cannot assign its fields (its own ``__setattr__`` refuses), so it
sets each through ``object.__setattr__(self, "name", value)``: a name looked up in the class for
every field. ``NormalisedRecord`` has 14 fields, and at national scale nearly every candidate record
is new to the caches, so that lookup was a tenth of the time to normalise one (2.2 of 18 µs).

``constructor(cls)`` returns a function taking the same arguments as ``cls(...)`` that calls each
slot's own descriptor instead (found once, when the function is made), the way ``dataclasses``
itself writes ``__init__``: by generating its source. What it returns is an ordinary instance of
``cls``, equal to, hashed like and as immutable as one built by ``cls(...)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import MISSING, Field, fields, is_dataclass
from types import MemberDescriptorType
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

_OWN_NAMES = frozenset({"_new_", "_cls_", "_self_"})


def constructor(cls: Callable[P, T]) -> Callable[P, T]:
    """A function building ``cls`` from the arguments ``cls(...)`` takes (positional or keyword).

    Only for a frozen slots dataclass whose ``__init__`` does nothing but set its fields: no
    ``__post_init__``, no default factories, every field an ``__init__`` argument."""
    if not (isinstance(cls, type) and is_dataclass(cls) and cls.__dataclass_params__.frozen):  # type: ignore[attr-defined]
        raise TypeError(f"{cls!r} is not a frozen dataclass")
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} has a __post_init__")
    names = [field.name for field in fields(cls)]
    namespace: dict[str, Any] = {"_new_": object.__new__, "_cls_": cls}
    namespace.update((f"_set_{field.name}", _slot_setter(cls, field)) for field in fields(cls))
    body = "".join(f"    _set_{name}(_self_, {name})\n" for name in names)
    exec(f"def build({', '.join(names)}):\n    _self_ = _new_(_cls_)\n{body}    return _self_\n", namespace)
    build: Callable[P, T] = namespace["build"]
    build.__defaults__ = _defaults(cls)
    build.__qualname__ = build.__name__ = f"build_{cls.__name__}"
    return build


def _slot_setter(cls: type, field: Field[Any]) -> Callable[[object, object], None]:
    """The slot's own ``__set__``: what ``object.__setattr__`` finds by name, found once."""
    slot = cls.__dict__.get(field.name)
    plain = field.init and field.kw_only is not True and field.default_factory is MISSING
    if not (plain and isinstance(slot, MemberDescriptorType)):
        raise TypeError(f"{cls.__name__}.{field.name} is not a plain slot field")
    if field.name in _OWN_NAMES or field.name.startswith("_set_"):
        raise TypeError(f"{cls.__name__}.{field.name}: a name the generated function uses")
    setter: Callable[[object, object], None] = slot.__set__
    return setter


def _defaults(cls: type) -> tuple[Any, ...] | None:
    """The fields' defaults, last fields first as a function's ``__defaults__`` are (dataclasses
    has already refused a field without a default after one with)."""
    return tuple(f.default for f in fields(cls) if f.default is not MISSING) or None
