"""The rule files' stamp a served engine checks on every request: any edit, new or removed
``*.lp`` file changes it, nothing else does."""

from __future__ import annotations

import os
from pathlib import Path

from engine.planning import _rules_stamp


def test_the_stamp_follows_the_rule_files_and_only_them(tmp_path: Path) -> None:
    assert _rules_stamp(tmp_path / "missing") == ()
    (tmp_path / "not-a-dir").write_text("x")
    assert _rules_stamp(tmp_path / "not-a-dir") == ()
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "b.lp").write_text("b.\n")
    (rules / "a.lp").write_text("a.\n")
    (rules / "notes.txt").write_text("not a rule file\n")
    first = _rules_stamp(rules)
    assert [name for name, _mtime, _size in first] == ["a.lp", "b.lp"]
    (rules / "notes.txt").write_text("edited, still not a rule file\n")
    assert _rules_stamp(rules) == first
    # an edit of the same size in the same nanosecond is all the stamp cannot see
    (rules / "a.lp").write_text("aa.\n")
    edited = _rules_stamp(rules)
    assert edited != first
    stat = (rules / "a.lp").stat()
    os.utime(rules / "a.lp", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert _rules_stamp(rules) != edited
    (rules / "c.lp").write_text("c.\n")
    assert [n for n, _m, _s in _rules_stamp(rules)] == ["a.lp", "b.lp", "c.lp"]
    (rules / "b.lp").unlink()
    assert [n for n, _m, _s in _rules_stamp(rules)] == ["a.lp", "c.lp"]
