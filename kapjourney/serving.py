"""How the backend's worker processes are kept alive (scaled mode).

Reflex 0.10 starts Granian (``reflex.utils.exec.run_granian_backend_prod``) without
``respawn_failed_workers``, Granian's default is off, and Reflex passes no setting through: one
worker that dies (killed by the kernel for memory, a crash in a native library, ``kill -9``)
makes Granian shut the whole server down, and every open page loses its connection for good.
With respawning on, Granian starts a new worker in its place; the pages reconnect to any worker
and find their state in Redis (tests/test_fault_worker_kill.py).

``rxconfig.py`` calls ``respawn_failed_workers()`` at import, which happens in Reflex's main
process before it builds the server. It changes only that one default, and only when Granian
is installed; an explicit argument still wins.
"""

from __future__ import annotations

import functools


def respawn_failed_workers() -> bool:
    """Make Granian respawn a worker that died unless told otherwise; True when in effect."""
    try:
        from granian.server import common
    except ImportError:  # pragma: no cover - Reflex then runs another server
        return False
    init = common.AbstractServer.__init__
    if getattr(init, "__kj_respawn__", False):
        return True

    @functools.wraps(init)
    def respawning(self, *args, **kwargs):
        kwargs.setdefault("respawn_failed_workers", True)
        init(self, *args, **kwargs)

    respawning.__kj_respawn__ = True  # type: ignore[attr-defined]
    common.AbstractServer.__init__ = respawning  # type: ignore[method-assign]
    return True
