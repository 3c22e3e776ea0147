"""The admin pages: read-only admins see them, admins also change things.

Every GET depends on `admin_view` and every POST on `admin` plus the CSRF
check, so the rule (rights.py) is applied by the route's signature.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from pagetally.web.app import render
from pagetally.web.identity import admin_view
from pagetally.web.rights import Identity

router = APIRouter(prefix="/admin")
Viewer = Annotated[Identity, Depends(admin_view)]


@router.get("")
def index(request: Request, who: Viewer) -> Response:
    return render(request, "admin/index.j2", who)
