"""The REST API under /api/v1 (JSON; OpenAPI at /api/v1/openapi.json) and
/metrics, with the same rights as the pages (web/rights.py) and API tokens
(`pagetally tokens`) besides the web's own logins. docs/api.md says what each
route does.

`install(app)` adds it all to the web interface's application (web/app.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.openapi.utils import get_openapi

from pagetally import __version__
from pagetally.web.api.base import PREFIX, bearer_token

DESCRIPTION = (
    "PageTally's REST API: a user reads their own account, quotas, jobs and payments; "
    "a read-only admin reads everything; an admin also changes it. Authenticate with "
    "`Authorization: Bearer <token>` (`pagetally tokens add USER`) or the web's session. "
    "Errors are JSON objects with a `detail` message. Money is a decimal string, dates "
    "ISO 8601 in UTC."
)


def api_router() -> APIRouter:
    from pagetally.web.api import admin, exports, me, quote

    router = APIRouter(prefix=PREFIX)
    router.include_router(me.router)
    router.include_router(quote.router)
    router.include_router(exports.router)
    router.include_router(admin.router)
    return router


def install(app: FastAPI) -> None:
    """Add /api/v1, its OpenAPI document, bearer tokens and /metrics to `app`."""
    from pagetally.web.metrics import metrics_router, observe

    state = app.state.web
    state.resolvers.append(bearer_token)
    api = api_router()
    app.include_router(api)
    schema: dict[str, Any] = {}

    @app.get(f"{PREFIX}/openapi.json", include_in_schema=False)
    def openapi(request: Request) -> dict[str, Any]:
        if not schema:
            schema.update(get_openapi(
                title="PageTally API", version=__version__, description=DESCRIPTION,
                routes=api.routes))
            schema["components"] = {**schema.get("components", {}), "securitySchemes": {
                "token": {"type": "http", "scheme": "bearer"}}}
            schema["security"] = [{"token": []}]
        return schema

    metrics, _registry = metrics_router(state.store)
    app.include_router(metrics)

    @app.middleware("http")
    async def _timed(request: Request, call_next: Callable[[Request], Any]) -> Response:
        started = time.perf_counter()
        response: Response = await call_next(request)
        if request.url.path.startswith(PREFIX):
            observe(metrics, request.method, response.status_code, started)
        return response

