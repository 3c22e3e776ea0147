"""Regular expressions compiled on first use.

Every `pagetally count` process, and every backend job, imports all format
modules to ask each parser whether a job is its language; compiling every
module's patterns then costs more than counting a small job, although a job
uses the patterns of one or two modules. `lazy(pattern, flags)` stands for
`re.compile(pattern, flags)` and compiles when first used: then each method
(`search`, `match`, ...) is the compiled pattern's own bound method, stored on
the object, so a hot loop pays nothing more than with the pattern itself.
"""

from __future__ import annotations

import re
from typing import Any, cast

_METHODS = ("search", "match", "fullmatch", "finditer", "findall", "split", "sub", "subn")


class _Lazy:
    __slots__ = ("_args", *_METHODS, "_compiled")

    def __init__(self, pattern: bytes | str, flags: int) -> None:
        self._args = (pattern, flags)
        _ALL.append(self)

    def __getattr__(self, name: str) -> Any:
        # Called only for what is not set yet: the first use, or an attribute of
        # the pattern itself (`pattern`, `groups`, `flags`, ...).
        try:
            compiled = object.__getattribute__(self, "_compiled")
        except AttributeError:
            compiled = re.compile(*self._args)
            object.__setattr__(self, "_compiled", compiled)
            for method in _METHODS:
                object.__setattr__(self, method, getattr(compiled, method))
        return getattr(compiled, name)

    def __repr__(self) -> str:
        return f"lazy({self._args[0]!r}, {self._args[1]})"


_ALL: list[_Lazy] = []


def compile_all() -> None:
    """Compile every lazy pattern of the modules loaded: the job runner does it
    before forking, so that no child compiles one again (service/jobs.preload)."""
    for pattern in _ALL:
        pattern.__getattr__("pattern")


def lazy(pattern: bytes, flags: int = 0) -> re.Pattern[bytes]:
    """`re.compile(pattern, flags)`, compiled when first used."""
    return cast("re.Pattern[bytes]", _Lazy(pattern, flags))
