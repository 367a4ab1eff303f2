"""The ctypes declarations match ``ffi/include/bluetick.h``: every function declared there
is declared here with as many parameters, and every struct has the same fields in the same
order. Also: the Swift package's copy of the header is the same file. (Skipped outside a
checkout of the repository.)"""

from __future__ import annotations

import re
from pathlib import Path

import ctypes

import pytest

from bluetick import _native

REPO = Path(__file__).resolve().parents[3]
HEADER = REPO / "ffi" / "include" / "bluetick.h"

pytestmark = pytest.mark.skipif(not HEADER.is_file(), reason="not run from a checkout")


def _declarations() -> dict[str, list[str]]:
    """Function name -> parameter list, from the header's prototypes."""
    text = re.sub(r"//[^\n]*", "", HEADER.read_text())
    found = {}
    for match in re.finditer(r"^[\w ]+?\**\s*\b(bt_\w+)\(([^)]*)\);", text, re.M):
        params = " ".join(match.group(2).split())
        found[match.group(1)] = [] if params in ("", "void") else params.split(",")
    return found


def _structs() -> dict[str, list[str]]:
    """Struct typedef name -> field names, in order."""
    text = re.sub(r"//[^\n]*", "", HEADER.read_text())
    found = {}
    for match in re.finditer(r"typedef struct \{([^}]*)\} (\w+);", text):
        fields = [
            re.sub(r"\[.*\]", "", decl).split()[-1].lstrip("*")
            for decl in match.group(1).split(";")
            if decl.strip()
        ]
        found[match.group(2)] = fields
    return found


def test_every_function_of_the_header_is_declared_with_its_arity():
    declared = _declarations()
    assert len(declared) > 50
    assert set(declared) == set(_native._SIGNATURES)
    for name, params in declared.items():
        _, argtypes = _native._SIGNATURES[name]
        assert len(argtypes) == len(params), name


SCALARS = {
    "size_t": ctypes.c_size_t,
    "uint32_t": ctypes.c_uint32,
    "uint64_t": ctypes.c_uint64,
    "uint8_t": ctypes.c_uint8,
    "bool": ctypes.c_bool,
    "int": ctypes.c_int,
}


def _is_pointer(ctype) -> bool:
    return (
        ctype in (ctypes.c_char_p, ctypes.c_void_p)
        or issubclass(ctype, (ctypes._Pointer, ctypes._CFuncPtr))
    )


def test_every_parameter_has_the_header_kind_in_the_header_order():
    """Scalars are the same C type; pointers (and the callback) are pointers. This
    catches swapped or missing arguments, which ctypes would not."""
    for name, params in _declarations().items():
        _, argtypes = _native._SIGNATURES[name]
        for position, (param, ctype) in enumerate(zip(params, argtypes)):
            c_type = param.rsplit(" ", 1)[0].replace("const ", "").strip()
            where = f"{name} parameter {position} ({param.strip()})"
            if "*" in param or c_type == "bt_identity_policy":
                assert _is_pointer(ctype), where
            else:
                assert ctype is SCALARS[c_type], where


@pytest.mark.parametrize(
    "struct",
    [
        _native.bt_account_config,
        _native.bt_buffer,
        _native.bt_inbox_entry,
        _native.bt_incoming,
        _native.bt_batch_message,
        _native.bt_prekey_counts,
    ],
    ids=lambda s: s.__name__,
)
def test_structs_have_the_header_fields_in_order(struct):
    assert [name for name, _ in struct._fields_] == _structs()[struct.__name__]


def test_constants_match_the_header():
    text = HEADER.read_text()
    defines = dict(re.findall(r"#define (BT_\w+) (\d+)", text))
    assert int(defines["BT_ABI_VERSION"]) == _native.ABI_VERSION
    assert int(defines["BT_KEY_LEN"]) == _native.KEY_LEN
    assert int(defines["BT_MESSAGE_ID_LEN"]) == _native.MESSAGE_ID_LEN
    assert int(defines["BT_SAFETY_NUMBER_SIZE"]) == _native.SAFETY_NUMBER_SIZE
    assert int(defines["BT_UPDATE_LEN"]) == _native.UPDATE_LEN


def test_the_swift_package_carries_the_same_header():
    copy = REPO / "bindings" / "swift" / "Sources" / "CBluetick" / "bluetick.h"
    if not copy.parent.is_dir():
        pytest.skip("no Swift package in this checkout")
    assert copy.read_bytes() == HEADER.read_bytes(), (
        "bindings/swift/Sources/CBluetick/bluetick.h is out of date: run "
        "bindings/swift/scripts/sync-header.sh and review the Swift wrapper"
    )
