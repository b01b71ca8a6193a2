"""Whether this archive process can serve: its database, bucket and broker answer.

Each check runs on a thread of its own with a deadline, so a component that hangs
(a firewalled database, an S3 endpoint that never answers) is reported as failing
within seconds instead of holding the probe. Details name the failing part in general
terms only (the probe is public); the cause is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass

from sqlalchemy import text

from dandi_archive.instance import Archive

log = logging.getLogger(__name__)

DEADLINE_SECONDS = 5.0


@dataclass(frozen=True)
class Health:
    checks: dict[str, str | None]  # component -> problem (None: fine)

    @property
    def ok(self) -> bool:
        return all(problem is None for problem in self.checks.values())

    def as_json(self) -> dict[str, object]:
        return {
            "status": "ok" if self.ok else "failing",
            "checks": {
                name: {"status": "failing", "detail": problem} if problem else {"status": "ok"}
                for name, problem in self.checks.items()
            },
        }


def database_problem(archive: Archive) -> str | None:
    try:
        connection = archive.db.engine.connect()
    except Exception as exc:
        log.warning("health: database unreachable: %s", exc)
        return "the database cannot be reached"
    try:
        # A table every migrated database has: reachable is not enough, it must be ours.
        connection.execute(text("SELECT version_num FROM alembic_version")).first()
    except Exception as exc:
        log.warning("health: database has no schema: %s", exc)
        return "the database has no archive schema (run dandi-archive migrate)"
    finally:
        connection.close()
    return None


def storage_problem(archive: Archive) -> str | None:
    return archive.store.problem()


def broker_problem(archive: Archive) -> str | None:
    return archive.jobs.problem()


def check_health(archive: Archive, deadline: float = DEADLINE_SECONDS) -> Health:
    """Run every check at once; one not done by ``deadline`` seconds counts as failing.
    The broker is checked only when one is configured (in-process jobs need none)."""
    checks: dict[str, Callable[[Archive], str | None]] = {
        "database": database_problem,
        "storage": storage_problem,
    }
    if archive.settings.broker_url:
        checks["broker"] = broker_problem
    # Not a `with` block: that would wait for a hung check, the very thing to avoid.
    pool = ThreadPoolExecutor(len(checks), thread_name_prefix="dandi-health")
    futures = {name: pool.submit(_guarded, check, archive) for name, check in checks.items()}
    wait(futures.values(), timeout=deadline)
    pool.shutdown(wait=False)
    results = {
        name: future.result() if future.done() else f"no answer within {deadline:g} s"
        for name, future in futures.items()
    }
    return Health(results)


def _guarded(check: Callable[[Archive], str | None], archive: Archive) -> str | None:
    try:
        return check(archive)
    except Exception as exc:  # a check that breaks reports failing, never a 500
        log.warning("health: %s failed: %s", check.__name__, exc)
        return "the check failed"
