"""Schemathesis against /api/v1/openapi.json: requests generated from the OpenAPI
document (valid and invalid), as an admin, to every operation: no answer is a
500. Bounded (a few examples an operation) so that it runs in seconds in CI.
(Driven here operation by operation: schemathesis' pytest plug-in does not load
under this pytest.)"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from tests.web.api.conftest import Tokens, bearer


@pytest.mark.slow
def test_no_server_errors(app: FastAPI, tokens: Tokens) -> None:
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    headers = bearer(tokens.root)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 45
    called: list[str] = []

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=4,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=[not_a_server_error])
            called.append(operation.label)

        run()
    assert len(set(called)) == len(operations)
