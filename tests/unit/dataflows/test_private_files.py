"""Specifications of the private state files: 0700 directories, 0600 files, whatever the umask."""

from __future__ import annotations

import errno
import logging
import os
import stat
from pathlib import Path

import pytest

from dataflows.private_files import make_private_dir, open_private_log, write_private_text


def test_make_private_dir_when_umask_open_then_0700_and_an_open_one_tightened(tmp_path: Path) -> None:
    previous = os.umask(0)
    try:
        fresh = make_private_dir(tmp_path / "a" / "b")
        (tmp_path / "open").mkdir(mode=0o777)
        tightened = make_private_dir(tmp_path / "open")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o700
    assert stat.S_IMODE(tightened.stat().st_mode) == 0o700


def test_make_private_dir_when_storage_read_only_then_warns_instead_of_failing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    directory = tmp_path / "chdb"
    directory.mkdir(mode=0o755)
    directory.chmod(0o755)

    def read_only(self: Path, mode: int) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self))

    monkeypatch.setattr(Path, "chmod", read_only)
    with caplog.at_level(logging.WARNING):
        assert make_private_dir(directory, "chDB data") == directory
    assert "Read-only file system" in caplog.text and "chDB data" in caplog.text


def test_private_files_when_written_then_0600(tmp_path: Path) -> None:
    previous = os.umask(0)
    try:
        write_private_text(tmp_path / "stack.json", "{}")
        with open_private_log(tmp_path / "worker.log") as log:
            log.write(b"line\n")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "stack.json").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "worker.log").stat().st_mode) == 0o600
    assert (tmp_path / "stack.json").read_text() == "{}"
