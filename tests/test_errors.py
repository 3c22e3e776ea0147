"""The error hierarchy's exit codes are a contract with scripts: pin them."""

from pagetally import errors


def test_exit_codes_are_pinned() -> None:
    assert errors.PageTallyError.exit_code == 1
    assert errors.InvalidInput.exit_code == 2
    assert errors.ConfigError.exit_code == 3
    assert errors.StorageError.exit_code == 4
    assert errors.NotFound.exit_code == 5
    assert errors.AlreadyExists.exit_code == 6
    assert errors.ReadOnlyStore.exit_code == 7
    assert errors.PdlError.exit_code == 8
    assert errors.DeviceError.exit_code == 9
    assert errors.DirectoryError.exit_code == 4
    assert errors.NotAvailable.exit_code == 4 and errors.NotAvailable.http_status == 501


def test_config_error_names_file_line_and_directive() -> None:
    e = errors.ConfigError(
        "not a number", path="/etc/pagetally/pagetally.conf", line=7, directive="gracedelay"
    )
    assert str(e) == "/etc/pagetally/pagetally.conf:7 [gracedelay]: not a number"


def test_not_found_says_what_is_missing() -> None:
    assert str(errors.NotFound("user", "bob")) == "user 'bob' does not exist"
