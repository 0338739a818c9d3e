"""``lrs-server``: serve, migrate, and manage organisations."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from sqlalchemy import Engine

from lrs_server.domain.model import OrgKind
from lrs_server.server import (
    InsecureListenRefused,
    LrsServer,
    ServerConfig,
    TlsConfig,
    tune_garbage_collector,
)
from lrs_server.storage import migrate
from lrs_server.storage.engine import is_sqlite, make_engine, refresh_statistics, statistics_warning
from lrs_server.storage.organisations import (
    IssuedToken,
    OrganisationAlreadyExists,
    OrganisationNotFound,
    OrganisationStore,
)

DEMO_REF = "DEMO0001"
log = logging.getLogger("lrs_server")


def _engine(args: argparse.Namespace) -> Engine:
    engine = make_engine(args.db)
    if is_sqlite(engine):
        migrate.upgrade(engine)  # a new (or older) embedded database is brought up to date
    elif not migrate.is_current(engine):
        raise SystemExit("the database schema is not current: run 'lrs-server migrate --db URL' first")
    if (warning := statistics_warning(engine)) is not None:
        log.warning(warning)
    return engine


def _print_token(issued: IssuedToken, as_json: bool) -> None:
    p = issued.principal
    if as_json:
        print(json.dumps({"token": issued.token, "ref": p.ref, "kind": p.kind.value, "name": p.name}))
    else:
        print(f"organisation {p.ref} ({p.kind.value}, {p.name})")
        print(f"token (shown once, store it safely): {issued.token}")


def cmd_serve(args: argparse.Namespace) -> int:
    engine = _engine(args)
    tls = None
    if args.tls_cert or args.tls_key:
        if not (args.tls_cert and args.tls_key):
            raise SystemExit("--tls-cert and --tls-key go together")
        tls = TlsConfig(
            Path(args.tls_cert), Path(args.tls_key), Path(args.tls_client_ca) if args.tls_client_ca else None
        )
    config = ServerConfig(listen=args.listen, tls=tls, workers=args.workers, allow_insecure=args.insecure)
    try:
        server = LrsServer(engine, config)
    except InsecureListenRefused as refused:
        raise SystemExit(str(refused)) from None
    if args.demo:
        _print_demo(engine, args.listen)
    print(
        f"lrs-server listening on {args.listen} ({'TLS' if tls else 'plaintext'}); Ctrl-C stops", flush=True
    )
    tune_garbage_collector()
    server.serve_until_signalled()
    print("lrs-server stopped", flush=True)
    return 0


def _print_demo(engine: Engine, listen: str) -> None:
    orgs = OrganisationStore(engine)
    try:
        issued = orgs.add(OrgKind.SCHOOL, DEMO_REF, "Demo Academy")
    except OrganisationAlreadyExists:
        issued = orgs.issue_token(DEMO_REF)
    print("demo school organisation ready; in another terminal:")
    print(f"  export LRS_SERVER={listen} LRS_TOKEN={issued.token}")
    print("  .venv/bin/lrs-school register --given-name Amara --family-name Okafor \\")
    print("      --date-of-birth 2011-03-14 --gender female --postcode 'SW1A 1AA'")
    print(
        "web pages for learners and review operators, in a third terminal (then open http://127.0.0.1:8080/):"
    )
    print(f"  .venv/bin/lrs-web serve --server {listen}")


def cmd_migrate(args: argparse.Namespace) -> int:
    engine = make_engine(args.db)
    migrate.upgrade(engine)
    print("database schema is current")
    return 0


def cmd_org_add(args: argparse.Namespace) -> int:
    engine = _engine(args)
    try:
        issued = OrganisationStore(engine).add(OrgKind(args.kind), args.ref, args.name)
    except OrganisationAlreadyExists:
        print(f"an organisation with reference {args.ref} exists already", file=sys.stderr)
        return 1
    _print_token(issued, args.json)
    return 0


def cmd_org_revoke(args: argparse.Namespace) -> int:
    engine = _engine(args)
    try:
        OrganisationStore(engine).revoke(args.ref)
    except OrganisationNotFound:
        print(f"no organisation with reference {args.ref}", file=sys.stderr)
        return 1
    print(f"organisation {args.ref} and its tokens are revoked")
    return 0


def cmd_org_token(args: argparse.Namespace) -> int:
    engine = _engine(args)
    try:
        issued = OrganisationStore(engine).issue_token(args.ref)
    except OrganisationNotFound:
        print(f"no live organisation with reference {args.ref}", file=sys.stderr)
        return 1
    _print_token(issued, args.json)
    return 0


def cmd_rekey(args: argparse.Namespace) -> int:
    from lrs_server.domain.rekey import rekey_all
    from lrs_server.storage.learners import SqlLearnerStore
    from matching import default_matcher

    started = time.monotonic()
    engine = _engine(args)
    done = rekey_all(
        SqlLearnerStore(engine),
        default_matcher(),
        progress=lambda n: print(f"{n:,} learners re-keyed", file=sys.stderr) if n % 100_000 == 0 else None,
    )
    refresh_statistics(engine)  # every key row was replaced
    print(f"re-keyed {done:,} learners in {time.monotonic() - started:.1f} s")
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from lrs_server.storage import audit

    report = audit.verify(_engine(args))
    if report.ok:
        print(f"access log intact: {report.entries} entries")
        return 0
    print(
        f"access log TAMPERED: entry seq={report.first_bad_seq} id={report.first_bad_id}: {report.problem}",
        file=sys.stderr,
    )
    return 1


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="lrs-server", description="The Learner Registration Service.")
    commands = root.add_subparsers(dest="command", required=True)
    db_help = "database URL (default: SQLite file data/lrs.sqlite3, or $LRS_DATA_DIR/lrs.sqlite3)"

    serve = commands.add_parser("serve", help="serve gRPC")
    serve.add_argument("--db", help=db_help)
    serve.add_argument("--listen", default="127.0.0.1:50051", help="HOST:PORT (default 127.0.0.1:50051)")
    serve.add_argument("--tls-cert", help="PEM certificate chain")
    serve.add_argument("--tls-key", help="PEM private key")
    serve.add_argument("--tls-client-ca", help="PEM CA bundle: require client certificates signed by it")
    serve.add_argument("--insecure", action="store_true", help="allow plaintext on a non-loopback address")
    serve.add_argument("--workers", type=int, default=16, help="concurrent RPCs (default 16)")
    serve.add_argument("--demo", action="store_true", help="create a demo school and print how to call it")
    serve.set_defaults(func=cmd_serve)

    mig = commands.add_parser("migrate", help="bring the database schema up to date")
    mig.add_argument("--db", help=db_help)
    mig.set_defaults(func=cmd_migrate)

    org = commands.add_parser("org", help="manage organisations").add_subparsers(
        dest="org_command", required=True
    )
    add = org.add_parser("add", help="add an organisation and print its token once")
    add.add_argument("--kind", required=True, choices=[k.value for k in OrgKind])
    add.add_argument("--ref", required=True, help="URN or UKPRN")
    add.add_argument("--name", required=True)
    add.add_argument("--db", help=db_help)
    add.add_argument("--json", action="store_true")
    add.set_defaults(func=cmd_org_add)
    revoke = org.add_parser("revoke", help="revoke an organisation and all its tokens")
    revoke.add_argument("--ref", required=True)
    revoke.add_argument("--db", help=db_help)
    revoke.set_defaults(func=cmd_org_revoke)
    token = org.add_parser("token", help="issue another token for an organisation")
    token.add_argument("--ref", required=True)
    token.add_argument("--db", help=db_help)
    token.add_argument("--json", action="store_true")
    token.set_defaults(func=cmd_org_token)

    rekey = commands.add_parser(
        "rekey",
        help="recompute every learner's blocking keys (after an upgrade that changed them; "
        "run with the service stopped)",
    )
    rekey.add_argument("--db", help=db_help)
    rekey.set_defaults(func=cmd_rekey)

    audit_cmd = commands.add_parser("audit", help="the access log").add_subparsers(
        dest="audit_command", required=True
    )
    verify = audit_cmd.add_parser("verify", help="check the access log's hash chain (exit 1 on tampering)")
    verify.add_argument("--db", help=db_help)
    verify.set_defaults(func=cmd_audit_verify)
    return root


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
