"""The web app bench/web.py serves: `app()` (uvicorn's factory, in every worker
process) builds it over the store named by $BENCH_STORE (StoreSettings as JSON),
with user000000 an admin and the cookie key "bench" (the bench signs its
clients' session cookies with it)."""

from __future__ import annotations

import json
import os
from typing import Any


def app() -> Any:
    from pagetally.storage import StoreSettings, open_store
    from pagetally.web.app import create_app
    from pagetally.web.settings import WebSettings

    settings = StoreSettings(**json.loads(os.environ["BENCH_STORE"]))
    return create_app(
        WebSettings(admins=frozenset({"user000000"}), secret="bench"), open_store(settings)
    )
