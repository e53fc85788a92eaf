"""Indicator state that pickles flat: one shared reconstructor, the class as a string, the slots in a tuple.

A recovery snapshot pickles every key's state, and a symbol's default feature set holds about 130
indicator objects of 47 classes. Pickle's default for a slotted object writes its class as a
global (a module lookup and an identity check per distinct class in every snapshot, about
2.5 µs to write and 1 µs to read), then a dict of its slots; a ``deque`` is one more global and
an iterator of items. Together they made up most of the time to snapshot a symbol. (The windows
of the default feature set's indicators are flat arrays with reconstructors of their own:
:mod:`operators.ta.ring`, :mod:`operators.ta.candles.window`.)

A :class:`FlatState` object instead reduces to ``restore(key, values, windows, arrays, unset)``:

- ``restore`` is the one global every indicator shares (written once per snapshot);
- ``key`` names the class (``module:qualname``, a string the pickle writes once, then refers to);
- ``values`` are the slots in declaration order, read in C by one ``attrgetter`` and written
  back by one generated assignment (``obj.a, obj.b = values``), as ``dataclasses`` generates
  its methods;
- each ``deque`` among them travels as ``(items, maxlen)`` with its position in ``windows``, each
  ``array`` as ``(typecode, bytes)`` with its position in ``arrays`` (an array's own pickling
  goes through a Python-level reconstructor and costs several µs);
- ``unset``: the positions of slots never set, which stay unset.

Restoring sets the same slots to the same objects and doubles, so a restored indicator
continues bit-identically. A subclass with a ``__dict__`` (one that declares no ``__slots__``)
keeps pickle's default.

>>> from collections import deque
>>> from copy import deepcopy
>>> class Window(FlatState):
...     __slots__ = ("period", "_values")
...     def __init__(self, period):
...         self.period, self._values = period, deque([1.5, 2.5], maxlen=period)
>>> copy = deepcopy(Window(3))  # deepcopy goes through the same __reduce_ex__ as pickle
>>> copy.period, copy._values
(3, deque([1.5, 2.5], maxlen=3))
"""

from __future__ import annotations

import importlib
from array import array
from collections import deque
from collections.abc import Callable
from itertools import compress, count, repeat
from operator import attrgetter, is_
from typing import ClassVar

_CLASSES: dict[str, type[FlatState]] = {}
_UNSET = object()


def _slot_names(cls: type) -> tuple[str, ...] | None:
    """Every slot of ``cls`` in declaration order (bases first), or None if it has a ``__dict__``."""
    names: list[str] = []
    for klass in reversed(cls.__mro__[:-1]):
        if "__slots__" not in klass.__dict__:
            return None
        slots = klass.__dict__["__slots__"]
        names.extend(name for name in ((slots,) if isinstance(slots, str) else slots) if name != "__weakref__")
    return tuple(names)


def _assignment(slots: tuple[str, ...]) -> Callable[[object, tuple | list], None]:
    """A function that sets ``slots`` of an object from a sequence in one unpacking assignment."""
    namespace: dict[str, object] = {}
    exec(f"def write(obj, values):\n    {', '.join(f'obj.{name}' for name in slots)}, = values\n", namespace)
    return namespace["write"]  # type: ignore[return-value]


class FlatState:
    """Mixin: ``pickle`` and ``copy`` write the object as ``restore(key, slot values, windows, arrays, unset)``."""

    __slots__ = ()
    _state_key: ClassVar[str]
    _state_slots: ClassVar[tuple[str, ...] | None]
    _read_state: ClassVar[Callable[[object], tuple]]
    _write_state: ClassVar[Callable[[object, tuple | list], None]]

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        cls._state_key = f"{cls.__module__}:{cls.__qualname__}"
        cls._state_slots = slots = _slot_names(cls)
        if slots:
            read = attrgetter(*slots)
            cls._read_state = read if len(slots) > 1 else staticmethod(lambda obj: (read(obj),))
            cls._write_state = staticmethod(_assignment(slots))
            _CLASSES[cls._state_key] = cls

    def __reduce_ex__(self, protocol: int) -> object:
        slots = self._state_slots
        if not slots:
            return object.__reduce_ex__(self, protocol)
        unset: tuple[int, ...] = ()
        try:
            values = self._read_state(self)
        except AttributeError:
            values = tuple(getattr(self, name, _UNSET) for name in slots)
            unset = tuple(index for index, value in enumerate(values) if value is _UNSET)
            values = tuple(None if value is _UNSET else value for value in values)
        kinds = set(map(type, values))  # in C; most indicators hold neither a deque nor an array
        if deque not in kinds and array not in kinds:
            return restore, (self._state_key, values, (), (), unset)
        windows = tuple(compress(count(), map(is_, map(type, values), repeat(deque))))  # in C: no Python loop
        arrays = tuple(compress(count(), map(is_, map(type, values), repeat(array))))
        values = list(values)
        for index in windows:
            window = values[index]
            values[index] = (list(window), window.maxlen)
        for index in arrays:
            buffer = values[index]
            values[index] = (buffer.typecode, buffer.tobytes())
        return restore, (self._state_key, values, windows, arrays, unset)


def restore(key: str, values: tuple | list, windows: tuple[int, ...], arrays: tuple[int, ...],
            unset: tuple[int, ...]) -> FlatState:
    """The object that ``FlatState.__reduce_ex__`` described (the pickle's reconstructor)."""
    cls = _CLASSES.get(key)
    if cls is None:
        importlib.import_module(key.partition(":")[0])
        cls = _CLASSES[key]
    obj = cls.__new__(cls)
    if windows or arrays:
        values = list(values)
        for index in windows:
            values[index] = deque(*values[index])
        for index in arrays:
            values[index] = array(*values[index])
    if unset:
        for index, (name, value) in enumerate(zip(cls._state_slots, values)):  # type: ignore[arg-type]
            if index not in unset:
                object.__setattr__(obj, name, value)
    else:
        cls._write_state(obj, values)
    return obj
