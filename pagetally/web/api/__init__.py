"""The REST API under /api/v1 (JSON; OpenAPI at /api/v1/openapi.json) and
/metrics, with the same rights as the pages (web/rights.py) and API tokens
(`pagetally tokens`) besides the web's own logins. docs/api.md says what each
route does.

`install(app)` adds it all to the web interface's application (web/app.py).
"""

from __future__ import annotations

import functools
import time
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.utils import get_openapi
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pagetally import __version__
from pagetally.web.api.base import PREFIX, bearer_token
from pagetally.web.metrics import metrics_router, observe

DESCRIPTION = (
    "PageTally's REST API: a user reads their own account, quotas, jobs and payments; "
    "a read-only admin reads everything; an admin also changes it. Authenticate with "
    "`Authorization: Bearer <token>` (`pagetally tokens add USER`) or the web's session. "
    "Errors are JSON objects with a `detail` message. Money is a decimal string, dates "
    "ISO 8601 in UTC."
)


@functools.cache
def api_router() -> APIRouter:
    """/api/v1's routes (one router per process: web.app.built_routes shares them)."""
    from pagetally.web.api import admin, exports, me, quote

    router = APIRouter(prefix=PREFIX)
    router.include_router(me.router)
    router.include_router(quote.router)
    router.include_router(exports.router)
    router.include_router(admin.router)
    return router


def install(app: FastAPI) -> None:
    """Add /api/v1, its OpenAPI document, bearer tokens and /metrics to `app`."""
    state = app.state.web
    state.resolvers.append(bearer_token)
    from pagetally.web.app import built_routes

    api = api_router()
    app.router.routes.extend(built_routes(api))
    schema: dict[str, Any] = {}

    @app.get(f"{PREFIX}/openapi.json", include_in_schema=False)
    def openapi(request: Request) -> dict[str, Any]:
        if not schema:
            schema.update(
                get_openapi(
                    title="PageTally API",
                    version=__version__,
                    description=DESCRIPTION,
                    routes=api.routes,
                )
            )
            schema["components"] = {
                **schema.get("components", {}),
                "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
            }
            schema["security"] = [{"token": []}]
        return schema

    metrics, _registry = metrics_router(state.store)
    app.include_router(metrics)

    app.add_middleware(Timed, metrics=metrics)


class Timed:
    """Counts and times the API's requests for /metrics (a plain ASGI middleware,
    see web.app.SecurityHeaders)."""

    def __init__(self, app: ASGIApp, metrics: APIRouter) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def send_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        await self.app(scope, receive, send_status)
        observe(self.metrics, scope["method"], status[0], started)
