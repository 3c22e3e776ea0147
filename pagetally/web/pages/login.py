"""Login and logout. The login form has its own CSRF token (a signed nonce in a
short-lived cookie), failures are rate-limited per user and address, and a
success starts a new session (a new nonce: old tokens are void)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from pagetally.web.app import render
from pagetally.web.forms import Posted
from pagetally.web.identity import optional, state_of
from pagetally.web.rights import Identity
from pagetally.web.sessions import COOKIE, LOGIN_COOKIE

router = APIRouter()


def _login_token(secret: str, nonce: str) -> str:
    return hmac.new(secret.encode(), f"login|{nonce}".encode(), hashlib.sha256).hexdigest()


def _form(request: Request, *, message: str = "", status: int = 200, user: str = "") -> Response:
    state = state_of(request)
    nonce = secrets.token_urlsafe(16)
    resp = render(
        request,
        "login.j2",
        None,
        status=status,
        message=message,
        user=user,
        login_csrf=_login_token(state.settings.secret, nonce),
        remote=state.authenticate is None,
    )
    resp.set_cookie(
        LOGIN_COOKIE,
        nonce,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=state.settings.secure_cookie,
    )
    return resp


@router.get("/login")
def login_page(request: Request, who: Annotated[Identity | None, Depends(optional)]) -> Response:
    if who is not None:
        return RedirectResponse("/", status_code=303)
    return _form(request)


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    state = state_of(request)
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    if not nonce or not hmac.compare_digest(_login_token(state.settings.secret, nonce), csrf):
        return _form(request, message="The form was too old: please try again.", status=403)
    if state.authenticate is None:
        return _form(request, status=400, message="This site signs you in through its web server.")
    name = username.strip()
    address = request.client.host if request.client else "?"
    wait = state.limiter.wait_seconds(address, name)
    if wait:
        return _form(
            request,
            status=429,
            user=name,
            message=f"Too many failed logins: try again in {(wait + 59) // 60} minutes.",
        )
    if not name or not state.authenticate(name, password):
        state.limiter.failed(address, name)
        return _form(request, status=401, user=name, message="Wrong user name or password.")
    state.limiter.succeeded(address, name)
    _session, cookie = state.sessions.new(name)
    resp = RedirectResponse("/", status_code=303)
    resp.set_cookie(
        COOKIE,
        cookie,
        max_age=state.sessions.max_age,
        httponly=True,
        samesite="lax",
        secure=state.settings.secure_cookie,
    )
    resp.delete_cookie(LOGIN_COOKIE)
    return resp


@router.post("/logout")
def logout(request: Request, who: Posted) -> Response:
    state = state_of(request)
    state.sessions.revoke(request.cookies.get(COOKIE))
    state.identities.forget_all()
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(COOKIE)
    return resp
