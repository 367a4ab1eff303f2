"""Finding the native library: BLUETICK_LIB first, with a clear error when it is wrong.
Each case runs in a fresh interpreter, since a process loads the library once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import bluetick

SRC = str(Path(__file__).resolve().parent.parent / "src")


def run(code: str, **env: str) -> subprocess.CompletedProcess:
    environment = dict(os.environ, PYTHONPATH=SRC, **env)
    return subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, timeout=60
    )


def test_the_loaded_library_matches_the_abi():
    assert bluetick.library_version()
    assert Path(bluetick.library_path()).is_file()
    if os.environ.get("BLUETICK_LIB"):
        assert Path(bluetick.library_path()) == Path(os.environ["BLUETICK_LIB"]).resolve()


def test_a_wrong_bluetick_lib_is_a_clear_error():
    result = run(
        "import bluetick\n"
        "try:\n"
        "    bluetick.library_version()\n"
        "except bluetick.LibraryNotFoundError as e:\n"
        "    print('ERROR', e)\n",
        BLUETICK_LIB="/nonexistent/libbluetick_ffi.so",
    )
    assert result.returncode == 0, result.stderr
    assert "ERROR BLUETICK_LIB='/nonexistent/libbluetick_ffi.so' does not name a file" in result.stdout


def test_a_file_that_is_not_the_library_is_a_clear_error(tmp_path):
    bogus = tmp_path / "libbluetick_ffi.so"
    bogus.write_bytes(b"not a shared object")
    result = run(
        "import bluetick\n"
        "try:\n"
        "    bluetick.Account.create_memory(bytes(32))\n"
        "except bluetick.LibraryNotFoundError as e:\n"
        "    print('ERROR', e)\n",
        BLUETICK_LIB=str(bogus),
    )
    assert result.returncode == 0, result.stderr
    assert "ERROR cannot load" in result.stdout
