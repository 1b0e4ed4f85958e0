"""Command line: ``python -m kapjourney.cli <command>``.

init          create the data directory and local secrets if absent
migrate       apply database migrations
create-database  create the PostgreSQL database KJ_DATABASE_URL names, when it is missing
seed          load the demo clinic when the database is empty
setup         init + migrate + seed (what ``make run`` does before serving)
verify-audit  check the audit hash chain and report the first broken link
demo-logins   print the demo sign-ins
notify-worker run the reminder worker (plan and send Web Push reminders); --once for one tick
vapid-public-key  print the server's VAPID public key (the browsers' applicationServerKey)
"""

from __future__ import annotations

import argparse
import sys

from kapjourney.settings import ensure_local_secrets, get_settings


def cmd_init() -> int:
    settings = get_settings()
    for path in ensure_local_secrets(settings):
        print(f"created {path}")
    return 0


def cmd_migrate() -> int:
    from alembic.config import Config

    from alembic import command
    from kapjourney.settings import PROJECT_ROOT

    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    command.upgrade(Config(str(PROJECT_ROOT / "alembic.ini")), "head")
    return 0


def cmd_create_database() -> int:
    """Create the PostgreSQL database that KJ_DATABASE_URL names when it does not exist yet
    (connecting to the server's ``postgres`` database to do it). SQLite needs nothing."""
    from sqlalchemy import create_engine, make_url, text

    settings = get_settings()
    if settings.is_sqlite:
        return 0
    url = make_url(settings.db_url)
    name = url.database or ""
    if not url.drivername.startswith("postgresql") or not name:
        print(f"not a PostgreSQL database URL: {url.drivername}", file=sys.stderr)
        return 2
    engine = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            found = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).first()
            if found is None:
                quoted = conn.dialect.identifier_preparer.quote(name)
                conn.execute(text(f"CREATE DATABASE {quoted}"))
                print(f"created database {name}")
    finally:
        engine.dispose()
    return 0


def cmd_seed() -> int:
    from kapjourney.db import session_scope
    from kapjourney.seed import is_empty, seed_demo

    settings = get_settings()
    if settings.env == "production":
        print("refusing to load demo accounts with KJ_ENV=production", file=sys.stderr)
        return 2
    with session_scope() as session:
        if not is_empty(session):
            print("database already has data; demo seed skipped")
            _clinic_defaults(session)
            return 0
        seed_demo(session)
    print("demo clinic seeded")
    return 0


def _clinic_defaults(session) -> None:
    """Clinics created before an upgrade get the protocol, template and consent they lack."""
    from sqlmodel import select

    from kapjourney.domain.models import Clinic
    from kapjourney.services.protocol import ensure_clinic_defaults

    for clinic_id in session.exec(select(Clinic.id)).all():
        ensure_clinic_defaults(session, clinic_id=clinic_id)


def cmd_demo_logins() -> int:
    from kapjourney.seed import DEMO_LOGINS

    print("Demo sign-ins (demo data only):")
    for login in DEMO_LOGINS:
        print(f"  {login.role:<9} {login.email:<32} {login.password:<22} {login.note}")
    return 0


def cmd_verify_audit() -> int:
    from kapjourney.db import session_scope
    from kapjourney.services.audit import verify_chain

    with session_scope() as session:
        report = verify_chain(session)
    if report.ok:
        print(f"audit chain intact: {report.checked} events verified")
        return 0
    print(
        f"audit chain BROKEN at event {report.first_broken_id}: {report.reason} "
        f"({report.checked} events verified before it)"
    )
    return 1


def cmd_notify_worker(once: bool = False) -> int:
    import asyncio
    import contextlib
    import logging

    from kapjourney.notifications.worker import run_forever

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_forever(once=once))
    return 0


def cmd_vapid_public_key() -> int:
    from kapjourney.notifications.vapid import load_keys

    print(load_keys(get_settings()).public_key)
    return 0


COMMANDS = {
    "init": cmd_init,
    "migrate": cmd_migrate,
    "create-database": cmd_create_database,
    "seed": cmd_seed,
    "demo-logins": cmd_demo_logins,
    "verify-audit": cmd_verify_audit,
    "notify-worker": cmd_notify_worker,
    "vapid-public-key": cmd_vapid_public_key,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="kapjourney", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=[*COMMANDS, "setup"])
    parser.add_argument("--once", action="store_true", help="notify-worker: one tick, then exit")
    args = parser.parse_args(argv)
    if args.command == "setup":
        return cmd_init() or cmd_migrate() or cmd_seed()
    if args.command == "notify-worker":
        return cmd_notify_worker(once=args.once)
    return COMMANDS[args.command]()


if __name__ == "__main__":
    sys.exit(main())
