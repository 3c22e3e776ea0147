"""The store's refund and web-query suites on the read/write split (a PostgreSQL
primary with a streaming replica, tests/replica.py), as test_split.py runs the
charge and entity suites: together the suites a store answers whatever its engine
(test_lifecycle.py is about each engine's own schema and roles). A module of its
own because test_charge.py and test_refunds.py each define a `site` fixture."""

from __future__ import annotations

import pytest

from tests.replica import pg_replicated  # noqa: F401
from tests.storage.test_refunds import *  # noqa: F403  (the suites, on the split)
from tests.storage.test_split import settings, split_primary, store  # noqa: F401
from tests.storage.test_webqueries import *  # noqa: F403

pytestmark = [pytest.mark.slow, pytest.mark.postgresql]
