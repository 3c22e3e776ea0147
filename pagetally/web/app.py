"""`create_app`: the FastAPI application of the web interface (docs/web.md).

One `WebState` per application holds the settings, the store (through its
roles), the session signer, the login and quote limiters and the identity resolvers; the
pages are routers (web/pages/) rendering Jinja2 templates with autoescaping on,
so every name and title is escaped. Served by uvicorn (`pagetally web`, or
inside `pagetally serve` with `webserve: yes`).
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from fastapi import FastAPI, Request
from fastapi.exceptions import HTTPException
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.datastructures import MutableHeaders
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pagetally.config import Config
from pagetally.errors import ConfigError, PageTallyError, StorageError
from pagetally.storage.base import ReportQueries, Store, WebAdminStore
from pagetally.web.auth import Authenticator, authenticator_for
from pagetally.web.dashboard import Recent
from pagetally.web.identity import DEFAULT_RESOLVERS, IdentityCache, NotLoggedIn, Resolver
from pagetally.web.ratelimit import LoginLimiter, UploadLimiter, limiters
from pagetally.web.rights import Identity
from pagetally.web.sessions import Sessions
from pagetally.web.settings import WebSettings

_log = logging.getLogger("pagetally.web")

#: Requests whose synchronous part (the store's reads and writes, the page's
#: rendering) runs at once, each in a worker thread with its own pooled
#: connection; more wait their turn in order. On a few cores more threads only
#: contend for the interpreter and the database (bench/web.py).
WEB_THREADS = 8


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    import anyio.to_thread

    anyio.to_thread.current_default_thread_limiter().total_tokens = WEB_THREADS
    yield


#: Routes built per tuple of routers (by identity; the routers are kept with them).
_BUILT: dict[tuple[int, ...], tuple[tuple[Any, ...], tuple[BaseRoute, ...]]] = {}


def built_routes(*routers: Any) -> tuple[BaseRoute, ...]:
    """`routers`' routes as an application includes them, built once per process and
    shared by every application made from them (the tests make hundreds): FastAPI
    analyses each route's parameters when it is added, ~0.2 s for the pages and the
    API. A route keeps no state of an application (a page reads
    `request.app.state.web`); it does not see an application's
    `dependency_overrides` (PageTally sets none)."""
    key = tuple(map(id, routers))
    if key not in _BUILT:
        from fastapi import APIRouter

        holder = APIRouter()
        for router in routers:
            holder.include_router(router)
        _BUILT[key] = (routers, tuple(holder.routes))
    return _BUILT[key][1]


def _now() -> datetime:
    return datetime.now(UTC)


@functools.cache
def templates() -> Environment:
    """Jinja2 over web/templates; autoescape always on (the files end in .j2).
    One per process: the compiled templates are shared by every application."""
    from pagetally.web import filters

    env = Environment(
        loader=PackageLoader("pagetally.web", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    filters.install(env)
    return env


@dataclass
class WebState:
    """What every page reads (`request.app.state.web`)."""

    settings: WebSettings
    store: WebAdminStore
    sessions: Sessions
    limiter: LoginLimiter
    quote_limiter: UploadLimiter
    authenticate: Authenticator | None
    env: Environment
    config: Config
    now: Callable[[], datetime] = _now
    #: The admin dashboard's sums, kept a minute (web/dashboard.py).
    dashboard: Recent = field(default_factory=Recent)
    #: Callers resolved lately (web/identity.py).
    identities: IdentityCache = field(default_factory=IdentityCache)
    #: Identity resolvers, tried in order; add yours (e.g. API tokens) here.
    resolvers: list[Resolver] = field(default_factory=lambda: list(DEFAULT_RESOLVERS))


def queries(state: WebState) -> ReportQueries:
    """The store's fast aggregate and page reads (the SQL store has them)."""
    if not isinstance(state.store, ReportQueries):
        raise StorageError("this store has no report queries: the web pages need the SQL store")
    return state.store


def render(
    request: Request, template: str, who: Identity | None, *, status: int = 200, **context: Any
) -> HTMLResponse:
    """A page: `template` with the caller, their CSRF token and `context`."""
    from pagetally.web.forms import csrf_token

    state: WebState = request.app.state.web
    html = state.env.get_template(template).render(
        who=who,
        csrf=csrf_token(request, who) if who else "",
        settings=state.settings,
        path=request.url.path,
        **context,
    )
    return HTMLResponse(html, status_code=status)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


_EVERY = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
)
_PAGES = (
    (
        "Content-Security-Policy",
        "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'",
    ),
    ("Cache-Control", "no-store"),
)


class SecurityHeaders:
    """The headers every answer carries (pages also a CSP and no caching), unless
    the route set its own. A plain ASGI middleware: Starlette's BaseHTTPMiddleware
    (`@app.middleware`) costs a task and a stream per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = _EVERY if scope["path"].startswith("/api/") else _EVERY + _PAGES

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra:
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(
    settings: WebSettings,
    store: WebAdminStore,
    *,
    config: Config | None = None,
    now: Callable[[], datetime] = _now,
    authenticate: Authenticator | None = None,
    resolvers: Sequence[Resolver] = (),
    routers: Sequence[Any] = (),
) -> FastAPI:
    """The web interface over `store`.

    `authenticate` replaces the password check `settings.auth` names (tests);
    `resolvers` are tried after the built-in ones (the API adds bearer tokens);
    `routers` are included after the pages (the API's /api/v1).
    """
    from pagetally.web.pages import admin, login, user

    app = FastAPI(
        title="PageTally", docs_url=None, redoc_url=None, openapi_url=None, lifespan=_lifespan
    )
    pool = getattr(store, "pool_at_least", None)
    if pool is not None:  # the SQL store: a connection for each worker thread
        pool(WEB_THREADS)
    login_limiter, quote_limiter = limiters(
        store,
        settings.login_attempts,
        settings.login_window_seconds,
        settings.quote_limit,
        settings.quote_window_seconds,
    )
    app.state.web = WebState(
        settings=settings,
        store=store,
        sessions=Sessions(settings.secret, settings.session_minutes * 60, store),
        limiter=login_limiter,
        quote_limiter=quote_limiter,
        authenticate=authenticate or authenticator_for(settings, store),
        env=templates(),
        config=config if config is not None else Config(path="(defaults)"),
        now=now,
    )
    app.state.web.resolvers.extend(resolvers)

    @app.exception_handler(NotLoggedIn)
    def _login(request: Request, exc: NotLoggedIn) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": "not logged in"}, status_code=401)
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(PageTallyError)
    def _error(request: Request, exc: PageTallyError) -> Response:
        status = exc.http_status
        said = status < 500 or status in (501, 503)  # 501: the store cannot answer it
        message = str(exc) if said else "internal error (see the log)"
        if status >= 500:
            _log.error("web: %s %s: %s", request.method, request.url.path, exc)
        return _http(request, HTTPException(status, message))

    @app.exception_handler(HTTPException)
    def _http(request: Request, exc: HTTPException) -> Response:
        if _is_api(request):
            return JSONResponse(
                {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
            )
        from pagetally.web.identity import resolve

        who = resolve(request)
        page = render(
            request,
            "error.j2",
            who,
            status=exc.status_code,
            message=str(exc.detail),
            code=exc.status_code,
        )
        page.headers.update(exc.headers or {})  # Retry-After of a 429
        return page

    app.add_middleware(SecurityHeaders)

    app.router.routes.extend(built_routes(login.router, user.router, admin.router))
    for router in routers:
        app.include_router(router)
    from pagetally.web.api import install  # /api/v1, tokens, /metrics (webapi)

    install(app)
    return app


def web_store(store: object, config: Config | None = None) -> WebAdminStore:
    """`store` as the web needs it: an SQL store keeps the web's passwords,
    refund requests and API tokens itself; beside the LDAP store they go to the
    SQL store `webstore` names (storage/webside.py)."""
    from pagetally.storage.sql import SqlStore

    if isinstance(store, SqlStore):
        return store
    settings = getattr(store, "settings", None)
    if config is None or getattr(settings, "backend", None) != "ldap":
        raise ConfigError(
            "the web interface needs an SQL store (SQLite, PostgreSQL, MariaDB), "
            "or the LDAP store with `webstore`",
            directive="storagebackend",
        )
    from pagetally.storage.webside import WebSideStore, open_side

    side = open_side(config.web_store_settings())
    return cast(WebAdminStore, WebSideStore(cast(Store, store), side))


def create_app_from_config(cfg: Config, *, secret: str | None = None, **kwargs: Any) -> FastAPI:
    """The application `pagetally web` serves: the store read-write (admins change it,
    users ask refunds) when this process may write it. `secret` replaces a
    `websecret` that is unset (the key `pagetally web --workers` made for its run)."""
    from dataclasses import replace

    from pagetally.storage import open_store
    from pagetally.web.settings import web_settings

    settings = cfg.store_settings()
    # as the CLI: a server database is written with the admin file's credentials;
    # a SQLite file by whoever may write it
    store = open_store(settings, readonly=settings.backend != "sqlite" and not cfg.is_admin)
    web = web_settings(cfg)
    if secret is not None:
        web = replace(web, secret=secret)
    return create_app(web, web_store(store, cfg), config=cfg, **kwargs)
