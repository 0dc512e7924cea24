"""Files go only under the output folder, every name checked before any file is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from billing_ledger import outputs
from ledger.errors import InvalidOutputPath


@pytest.mark.parametrize("name", [["..", "x.csv"], ["a/b", "x.csv"], ["../../etc", "x.csv"],
                                  ["a\\b"], ["x" * 256], ["é" * 128], [""], ["."], ["a\x00b"]])
def test_a_name_that_would_leave_the_folder_or_is_too_long_is_refused(tmp_path: Path,
                                                                      name: list[str]) -> None:
    out = tmp_path / "out"
    with pytest.raises(InvalidOutputPath):
        outputs.plan(out, [["good", "x.csv"], name])
    assert list(tmp_path.iterdir()) == []  # nothing was created, not even the good one


def test_a_symbolic_link_leading_elsewhere_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "link").symlink_to(tmp_path)
    with pytest.raises(InvalidOutputPath, match="would leave"):
        outputs.plan(out, [["link", "x.csv"]])


def test_names_within_the_limits_are_written_whole(tmp_path: Path) -> None:
    out = tmp_path / "out"
    paths = outputs.plan(out, [["a", "x.csv"], "y.csv", ["b" * 255]])
    outputs.write(dict(zip(paths, [b"1", "2", b"3"], strict=True)))
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "a/x.csv", "b" * 255, "y.csv"]
    assert (out / "y.csv").read_text() == "2"


def test_an_output_folder_that_cannot_be_made_is_refused_before_anything(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(InvalidOutputPath, match="is not a folder"):
        outputs.check_writable(tmp_path / "file" / "out")
    with pytest.raises(InvalidOutputPath, match="is not a folder"):
        outputs.check_writable(tmp_path / "file")
    outputs.check_writable(tmp_path / "new" / "deeper")
    assert not (tmp_path / "new").exists()


def test_a_write_that_fails_names_the_file_asked_for(tmp_path: Path) -> None:
    target = tmp_path / "taken"
    (target / "inside").mkdir(parents=True)  # a folder where the file should go
    with pytest.raises(OSError, match="taken") as failed:
        outputs.write({target: "x"})
    assert failed.value.filename == str(target)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["inside", "taken"]  # no leftovers
