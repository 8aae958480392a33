"""A grounding's atoms read through clingo's C API, as plain symbol values.

Why: the Python wrappers spend one cffi call and a new object on every property of every
atom. The engine reads hundreds of thousands of atoms once per grounding (the trace's
``__fired`` instances: 1.6M at 100k triples when a rule joined every pair of providers; a
decision table's worlds: 1M at 1M triples), so it reads them here with reused out-parameters
and keeps clingo's symbol values (``Symbol._rep``), wrapping only the few a request uses.
"""

from __future__ import annotations

from collections.abc import Iterator

import clingo
from clingo._internal import _ffi, _lib  # type: ignore[attr-defined]


def atoms(ctl: clingo.Control, name: str, arity: int) -> Iterator[tuple[int, bool, int]]:
    """``(symbol value, is a fact, program literal)`` of every atom of ``name/arity`` in
    the grounding, in clingo's order (the literal is 0 for a fact: not read)."""
    lib = _lib
    domain = ctl.symbolic_atoms._rep
    signature = _ffi.new("clingo_signature_t*")
    if not lib.clingo_signature_create(name.encode(), arity, True, signature):
        raise RuntimeError(f"clingo could not create the signature {name}/{arity}")
    it = _ffi.new("clingo_symbolic_atom_iterator_t*")
    valid, fact = _ffi.new("bool*"), _ffi.new("bool*")
    symbol, literal = _ffi.new("clingo_symbol_t*"), _ffi.new("clingo_literal_t*")
    is_valid, next_atom = lib.clingo_symbolic_atoms_is_valid, lib.clingo_symbolic_atoms_next
    is_fact, atom_symbol = lib.clingo_symbolic_atoms_is_fact, lib.clingo_symbolic_atoms_symbol
    atom_literal = lib.clingo_symbolic_atoms_literal
    if not lib.clingo_symbolic_atoms_begin(domain, signature, it):
        raise RuntimeError(f"clingo could not iterate over the atoms of {name}/{arity}")
    while True:
        current = it[0]
        if not is_valid(domain, current, valid):
            raise RuntimeError(f"clingo could not iterate over the atoms of {name}/{arity}")
        if not valid[0]:
            return
        if not (is_fact(domain, current, fact) and atom_symbol(domain, current, symbol)):
            raise RuntimeError(f"clingo could not read an atom of {name}/{arity}")
        if fact[0]:
            yield symbol[0], True, 0
        elif atom_literal(domain, current, literal):
            yield symbol[0], False, literal[0]
        else:
            raise RuntimeError(f"clingo could not read an atom of {name}/{arity}")
        if not next_atom(domain, current, it):
            raise RuntimeError(f"clingo could not iterate over the atoms of {name}/{arity}")


class Symbols:
    """Parts of symbol values, read with reused out-parameters (one reader per thread)."""

    def __init__(self) -> None:
        self._args = _ffi.new("clingo_symbol_t**")
        self._size = _ffi.new("size_t*")
        self._number = _ffi.new("int*")
        self._name = _ffi.new("char**")

    def first(self, symbol: int) -> int:
        """The first argument of a function symbol."""
        if not _lib.clingo_symbol_arguments(symbol, self._args, self._size) or self._size[0] < 1:
            raise RuntimeError("clingo could not read a symbol's arguments")
        return self._args[0][0]  # type: ignore[no-any-return]

    def first_two(self, symbol: int) -> tuple[int, int]:
        """The first two arguments of a function symbol (no list: read per atom of a
        grounding)."""
        if not _lib.clingo_symbol_arguments(symbol, self._args, self._size) or self._size[0] < 2:
            raise RuntimeError("clingo could not read a symbol's arguments")
        args = self._args[0]
        return args[0], args[1]

    def number(self, symbol: int) -> int:
        """The value of a number symbol."""
        if not _lib.clingo_symbol_number(symbol, self._number):
            raise RuntimeError("clingo could not read a number symbol")
        return self._number[0]  # type: ignore[no-any-return]

    def name(self, symbol: int) -> bytes:
        """The name of a function symbol."""
        if not _lib.clingo_symbol_name(symbol, self._name):
            raise RuntimeError("clingo could not read a symbol's name")
        return bytes(_ffi.string(self._name[0]))
