"""The exit codes scripts test: pinned, and derived in one place from the errors."""

from __future__ import annotations

import inspect

import pytest

from pagetally import errors
from pagetally.cli.exitcodes import DENIED, ExitCode, exit_code_for

PINNED = {
    "PageTallyError": 1,
    "ConfigError": 3,
    "InvalidInput": 2,
    "InvalidAmount": 2,
    "RuleError": 2,
    "PrinterGroupCycle": 2,
    "StorageError": 4,
    "StoreUnavailable": 4,
    "NotFound": 5,
    "AlreadyExists": 6,
    "ReadOnlyStore": 7,
    "SchemaOutOfDate": 4,
    "NotAvailable": 4,
    "PdlError": 8,
    "UnknownFormat": 8,
    "TruncatedData": 8,
    "EncryptedData": 8,
    "CorruptData": 8,
    "LimitReached": 8,
    "AnalysisUnavailable": 8,
    "DeviceError": 9,
    "DirectoryError": 4,
}


def test_enum_values_are_pinned() -> None:
    assert {e.name: int(e) for e in ExitCode} == {
        "OK": 0,
        "ERROR": 1,
        "USAGE": 2,
        "CONFIG": 3,
        "STORAGE": 4,
        "NOT_FOUND": 5,
        "ALREADY_EXISTS": 6,
        "READ_ONLY": 7,
        "PDL": 8,
        "DEVICE": 9,
        "INTERNAL": 70,
        "INTERRUPTED": 130,
    }
    assert DENIED == 1


def _instance(cls: type[errors.PageTallyError]) -> errors.PageTallyError:
    if issubclass(cls, errors.NotFound | errors.AlreadyExists):
        return cls("user", "x")
    return cls("boom")


@pytest.mark.parametrize(
    "cls",
    [
        c
        for _, c in inspect.getmembers(errors, inspect.isclass)
        if issubclass(c, errors.PageTallyError)
    ],
    ids=lambda c: c.__name__,
)
def test_every_error_class_maps(cls: type[errors.PageTallyError]) -> None:
    assert cls.__name__ in PINNED, f"new error class {cls.__name__}: pin its exit code here"
    assert exit_code_for(_instance(cls)) == PINNED[cls.__name__]


def test_other_exceptions() -> None:
    assert exit_code_for(KeyboardInterrupt()) is ExitCode.INTERRUPTED
    assert exit_code_for(ValueError("x")) is ExitCode.INTERNAL
