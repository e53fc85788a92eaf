"""An indicator's whole state as one flat tuple, by two functions generated for its shape.

(The same generator packs a symbol's whole feature state, :mod:`operators.features.symbol`:
``within`` widens the classes read slot by slot, a node whose class writes its own
``__getstate__`` is packed as that state, ``shared`` slots come back from the prototype and
``leave`` slots are the caller's.)

A symbol's snapshot holds every configured indicator, and each is a small tree of objects: the
indicator, its sub-indicators, its rings. Pickling the tree costs a Python call per object
(``FlatState.__reduce_ex__`` on the way out, ``restore`` on the way in), and the 28 indicators of
the default feature set are about 100 such objects per symbol: half the time to snapshot a key.

The tree's shape follows from the indicator's class and parameters alone (the objects are
made in ``__init__`` / ``_reset`` and keep their classes), so a :class:`PackedState` walks one
freshly built *prototype* once and generates, with ``exec`` as ``dataclasses`` does, two
straight-line functions for that shape:

- ``pack(indicator)``: every slot of every object of the tree in one tuple (an ``array`` as its
  ``bytes``), or ``None`` where the indicator does not have the prototype's shape (an object of
  another class where the prototype had one, a slot unset): the caller then pickles the
  indicator itself, so a pack is never wrong, only sometimes not taken;
- ``unpack(values)``: a new tree of the same classes with the same slot values (the same doubles,
  the same bytes), so the restored indicator continues bit-identically.

A snapshot then pickles one tuple of scalars and ``bytes`` per indicator, all in C.

>>> from operators.ta.indicators.catalogue import indicator_class
>>> macd = indicator_class("MACD")(fastperiod=2, slowperiod=3, signalperiod=2)
>>> packed = PackedState(type(macd)(fastperiod=2, slowperiod=3, signalperiod=2))
>>> for close in [1.0, 2.0, 4.0, 3.0, 5.0]:
...     macd.update(close)
>>> copy = packed.unpack(packed.pack(macd))
>>> copy is not macd, copy.values == macd.values
(True, True)
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from itertools import count

from operators.ta.state import _slot_names


def _is_node(value: object, within: str = "operators.ta.") -> bool:
    """True for an object of the tree: an instance of a mutable slotted class of a module under
    ``within`` (an indicator, a ring, a rolling extreme), whose slots are read one by one (or, if its
    class writes its own ``__getstate__``, that state); anything else in a slot is a value, pickled
    as it is."""
    cls = type(value)
    return (cls.__module__.startswith(within) and cls.__setattr__ is object.__setattr__
            and bool(_slot_names(cls)))


def _own_state(cls: type) -> bool:
    """True if ``cls`` writes its own ``__getstate__``/``__setstate__`` (a rolling window that
    stores its live events only): the pack holds that state, and unpack hands it back."""
    return cls.__getstate__ is not object.__getstate__ and getattr(cls, "__setstate__", None) is not None


class PackedState:
    """``pack`` and ``unpack`` generated for the shape of ``prototype`` (a freshly built indicator, or
    any freshly built tree of slotted objects of modules under ``within``).

    A prototype whose shape cannot be described (a slot unset, one object reached twice, an
    object without ``__slots__``) gets a ``pack`` that always answers ``None``.
    """

    __slots__ = ("pack", "unpack")

    def __init__(self, prototype: object, within: str = "operators.ta.", shared: frozenset[str] = frozenset(),
                 leave: frozenset[str] = frozenset()) -> None:
        source, namespace = _generated(prototype, within, shared, leave)
        exec(source, namespace)  # noqa: S102 - code generated from slot names, as dataclasses does
        self.pack: Callable[[object], tuple | None] = namespace["pack"]  # type: ignore[assignment]
        self.unpack: Callable[[tuple], object] = namespace["unpack"]  # type: ignore[assignment]


def _never(obj: object) -> None:
    return None


def _generated(prototype: object, within: str, shared: frozenset[str], leave: frozenset[str]
               ) -> tuple[str, dict[str, object]]:
    """The source of ``pack`` and ``unpack`` for the shape of ``prototype``, and their globals.

    ``shared`` names slots (``"Class.slot"``) whose value is the same immutable object for every
    tree of this shape (the config and what follows from it): the pack leaves them out and unpack
    sets the prototype's. ``leave`` names slots that neither touches: the caller stores and sets them."""
    namespace: dict[str, object] = {"array": array}
    numbers = count(1)  # names of the objects (o1, o2 ...) and classes (C1 ...) in the generated code
    reached: list[object] = []  # the objects and arrays visited, to refuse one reached twice
    checks: list[str] = []  # pack: fetch each object and array, check its class
    reads: list[str] = []  # pack: the expressions of the tuple, in order
    builds: list[str] = []  # unpack: make each object
    writes: list[str] = []  # unpack: set each slot from the tuple

    def visit(node: object, name: str) -> bool:
        cls = type(node)
        slots = _slot_names(cls)
        if not slots or any(node is seen for seen in reached):
            return False
        reached.append(node)
        class_name = f"C{next(numbers)}"
        namespace[class_name] = cls
        checks.append(f"    if {name}.__class__ is not {class_name}: return None")
        builds.append(f"    {name} = {class_name}.__new__({class_name})")
        if node is not prototype and _own_state(cls):
            writes.append(f"    {name}.__setstate__(v{len(reads)})")
            reads.append(f"{name}.__getstate__()")
            return True
        for slot in slots:
            if f"{cls.__name__}.{slot}" in leave:
                continue
            if not hasattr(node, slot):
                return False
            value = getattr(node, slot)
            if f"{cls.__name__}.{slot}" in shared:
                constant = f"S{next(numbers)}"
                namespace[constant] = value
                writes.append(f"    {name}.{slot} = {constant}")
                continue
            if _is_node(value, within):
                child = f"o{next(numbers)}"
                checks.append(f"    {child} = {name}.{slot}")
                writes.append(f"    {name}.{slot} = {child}")
                if not visit(value, child):
                    return False
            elif type(value) in (tuple, list) and value and all(_is_node(item, within) for item in value):
                children = [f"o{next(numbers)}" for _ in value]
                kind, opening, closing = ("tuple", "(", ",)") if type(value) is tuple else ("list", "[", "]")
                checks.append(f"    if {name}.{slot}.__class__ is not {kind}: return None")
                checks.append(f"    ({', '.join(children)},) = {name}.{slot}")
                writes.append(f"    {name}.{slot} = {opening}{', '.join(children)}{closing}")
                for child, item in zip(children, value):
                    if not visit(item, child):
                        return False
            elif type(value) is array:
                if any(value is seen for seen in reached):
                    return False
                reached.append(value)
                buffer = f"a{len(reads)}"
                checks.append(f"    {buffer} = {name}.{slot}")
                checks.append(f"    if {buffer}.__class__ is not array or {buffer}.typecode != {value.typecode!r}: "
                              "return None")
                writes.append(f"    {name}.{slot} = array({value.typecode!r}, v{len(reads)})")
                reads.append(f"{buffer}.tobytes()")
            else:
                writes.append(f"    {name}.{slot} = v{len(reads)}")
                reads.append(f"{name}.{slot}")
        return True

    if not visit(prototype, "o0"):
        return "def unpack(values):\n    raise ValueError('nothing was packed')\n", {**namespace, "pack": _never}
    packed = "".join(f"{read}, " for read in reads)
    unpacked = "".join(f"v{index}, " for index in range(len(reads)))
    source = ("def pack(o0):\n    try:\n" + "".join(f"    {line}\n" for line in checks)
              + f"        return ({packed})\n    except (AttributeError, ValueError):\n        return None\n"
              + "def unpack(values):\n" + "".join(f"{line}\n" for line in builds)
              + f"    ({unpacked}) = values\n" + "".join(f"{line}\n" for line in writes) + "    return o0\n")
    return source, namespace
