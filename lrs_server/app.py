"""``lrs-server``: serve, migrate, and manage organisations."""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from lrs_server.domain.model import OrgKind
from lrs_server.domain.retention import (
    ACCESS_LOG_DAYS,
    ACTIVATION_CODE_DAYS,
    ENDED_GRANT_DAYS,
    NOTICE_STATE_DAYS,
)
from lrs_server.limits import Bucket, LimitKind, RateLimits
from lrs_server.mail import SmtpSettings
from lrs_server.server import InsecureListenRefused, ServerConfig, TlsConfig, check_listen
from lrs_server.storage import migrate
from lrs_server.storage.engine import is_sqlite, make_engine, refresh_statistics, statistics_warning
from lrs_server.storage.organisations import (
    IssuedToken,
    OrganisationAlreadyExists,
    OrganisationNotFound,
    OrganisationStore,
)
from lrs_server.workers import WorkerSpec, run_worker, supervise

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


def _rate_limits(args: argparse.Namespace) -> RateLimits | None:
    given = {kind: getattr(args, f"limit_{kind.value}") for kind in LimitKind}
    try:
        buckets = {kind: Bucket.parse(text) for kind, text in given.items() if text}
    except ValueError as bad:
        raise SystemExit(f"a rate limit is PER_MINUTE or PER_MINUTE/BURST, above 0: {bad}") from None
    if not buckets:
        return None
    if not args.redis_url:
        raise SystemExit("rate limits are shared through Redis: give --redis-url redis://HOST:PORT/DB")
    return RateLimits(buckets)


def cmd_serve(args: argparse.Namespace) -> int:
    engine = _engine(args)
    tls = None
    if args.tls_cert or args.tls_key:
        if not (args.tls_cert and args.tls_key):
            raise SystemExit("--tls-cert and --tls-key go together")
        tls = TlsConfig(
            Path(args.tls_cert), Path(args.tls_key), Path(args.tls_client_ca) if args.tls_client_ca else None
        )
    workers = args.workers if args.workers is not None else (os.cpu_count() or 1)
    if workers < 1:
        raise SystemExit("--workers is at least 1")
    if args.token_cache_seconds < 0:
        raise SystemExit("--token-cache-seconds is 0 or more")
    if workers > 1 and args.listen.rsplit(":", 1)[-1] == "0":
        raise SystemExit("--workers above 1 share one port: give --listen HOST:PORT with a port, not 0")
    config = ServerConfig(
        listen=args.listen,
        tls=tls,
        threads=args.threads,
        max_in_flight=args.max_in_flight,
        allow_insecure=args.insecure,
        reuse_port=workers > 1,
        health_interval=args.health_interval,
        token_cache_seconds=args.token_cache_seconds,
    )
    try:
        check_listen(config)
    except InsecureListenRefused as refused:
        raise SystemExit(str(refused)) from None
    spec = WorkerSpec(
        db=args.db,
        config=config,
        limits=_rate_limits(args),
        redis_url=args.redis_url,
        redis_prefix=args.redis_prefix,
        metrics=args.metrics_listen is not None,
        smtp=_smtp(args),
    )
    if args.demo:
        _print_demo(engine, args.listen)
    metrics_dir = None
    worker_ended: Callable[[int], None] = _ignore
    if args.metrics_listen is not None:
        from lrs_server.metrics_setup import enable_multiprocess

        metrics_dir = enable_multiprocess()  # before prometheus-client is first imported
        from lrs_server import metrics

        try:
            metrics.serve_metrics(args.metrics_listen, engine)
        except (OSError, ValueError) as failed:
            shutil.rmtree(metrics_dir, ignore_errors=True)
            raise SystemExit(f"cannot serve metrics on {args.metrics_listen}: {failed}") from None
        worker_ended = metrics.mark_worker_dead
    listening = (
        f"lrs-server listening on {args.listen} ({'TLS' if tls else 'plaintext'}; "
        f"{workers} worker{'s' if workers > 1 else ''}"
        f"{f'; metrics on http://{args.metrics_listen}/metrics' if args.metrics_listen else ''})"
        "; Ctrl-C stops"
    )
    try:
        if workers == 1:
            run_worker(spec, started=lambda: print(listening, flush=True))
            status = 0
        else:
            if not is_sqlite(engine) and args.metrics_listen is None:
                engine.dispose()  # the parent holds no connections it does not use
            status = supervise(spec, workers, lambda: print(listening, flush=True), worker_ended)
    except InsecureListenRefused as refused:
        raise SystemExit(str(refused)) from None
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)
    print("lrs-server stopped" if status == 0 else "lrs-server stopped after a worker failed", flush=True)
    return status


def _ignore(_pid: int) -> None:
    return None


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
        issued = OrganisationStore(engine).add(OrgKind(args.kind), args.ref, args.name, args.town)
    except OrganisationAlreadyExists:
        print(f"an organisation with reference {args.ref} exists already", file=sys.stderr)
        return 1
    _print_token(issued, args.json)
    return 0


def cmd_org_town(args: argparse.Namespace) -> int:
    engine = _engine(args)
    try:
        OrganisationStore(engine).set_town(args.ref, args.town)
    except OrganisationNotFound:
        print(f"no organisation with reference {args.ref}", file=sys.stderr)
        return 1
    print(f"organisation {args.ref} is in {args.town}")
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
        f"access log TAMPERED:{'' if report.chain is None else f' chain {report.chain}'}"
        f" entry seq={report.first_bad_seq} id={report.first_bad_id}: {report.problem}",
        file=sys.stderr,
    )
    return 1


def _smtp(args: argparse.Namespace) -> SmtpSettings | None:
    if not args.smtp_server:
        if args.smtp_from:
            raise SystemExit("--smtp-from goes with --smtp-server HOST:PORT")
        return None
    if not args.smtp_from:
        raise SystemExit("--smtp-server needs --smtp-from ADDRESS (the sender of the emails)")
    try:
        return SmtpSettings.parse(args.smtp_server, args.smtp_from, args.smtp_starttls)
    except ValueError as bad:
        raise SystemExit(str(bad)) from None


def _add_smtp(p: argparse.ArgumentParser, required: bool) -> None:
    p.add_argument(
        "--smtp-server",
        required=required,
        metavar="HOST:PORT",
        help="mail server for the notice digest and its address confirmations"
        + ("" if required else " (default: none; learners cannot ask for the digest)"),
    )
    p.add_argument("--smtp-from", required=required, metavar="ADDRESS", help="sender of those emails")
    p.add_argument(
        "--smtp-starttls",
        action="store_true",
        help="upgrade to TLS before sending; logs in when $LRS_SMTP_USER and $LRS_SMTP_PASSWORD are set",
    )


def cmd_send_digests(args: argparse.Namespace) -> int:
    from lrs_server.domain.clock import Clock
    from lrs_server.domain.digest import DigestSender
    from lrs_server.mail import SmtpMailer
    from lrs_server.storage.notices import SqlNoticeStore

    settings = _smtp(args)
    assert settings is not None  # both options are required on this command
    report = DigestSender(SqlNoticeStore(_engine(args)), Clock(), SmtpMailer(settings)).send_due()
    print(
        f"notice digests: {report.sent} sent, {report.nothing_new} with nothing new, {report.failed} failed"
    )
    return 1 if report.failed else 0


def cmd_purge(args: argparse.Namespace) -> int:
    from lrs_server.domain.retention import RetentionPolicy, cutoffs
    from lrs_server.storage.purge import purge

    try:
        policy = RetentionPolicy(
            args.access_log_days, args.notice_state_days, args.activation_code_days, args.ended_grant_days
        )
    except ValueError as bad:
        raise SystemExit(str(bad)) from None
    now = datetime.now(UTC)
    report = purge(_engine(args), cutoffs(policy, now), now)
    print(
        f"purged: {report.access_log_entries} access-log entries (hashes kept), "
        f"{report.notice_states} notice markers, {report.pending_emails} unconfirmed digest addresses, "
        f"{report.activation_codes} activation codes, "
        f"{report.activation_attempts} activation attempt records, {report.ended_grants} ended grant rows"
    )
    return 0


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
    serve.add_argument(
        "--workers",
        type=int,
        default=None,
        help="serving processes sharing the port (SO_REUSEPORT); default: the number of CPUs; "
        "1 serves from this process",
    )
    serve.add_argument(
        "--threads", type=int, default=16, help="threads running calls, per worker (default 16)"
    )
    serve.add_argument(
        "--max-in-flight",
        type=int,
        default=64,
        help="calls admitted per worker (running or waiting for a thread) before more are refused "
        "RESOURCE_EXHAUSTED SERVER_BUSY with a RetryInfo (default 64)",
    )
    serve.add_argument(
        "--metrics-listen", help="HOST:PORT: serve Prometheus metrics of all workers at /metrics"
    )
    serve.add_argument(
        "--health-interval",
        type=float,
        default=2.0,
        help="seconds between database probes; the health service answers NOT_SERVING while the "
        "database is unreachable (default 2; 0: never probe)",
    )
    serve.add_argument(
        "--token-cache-seconds",
        type=float,
        default=ServerConfig().token_cache_seconds,
        help="how long a worker trusts a bearer token it has checked before checking it again, so a "
        "revoked token or organisation is refused within this many seconds (default "
        f"{ServerConfig().token_cache_seconds:g}; 0: check every call)",
    )
    serve.add_argument(
        "--redis-url",
        help="Redis for the rate limits shared by every replica and worker (redis://HOST:PORT/DB)",
    )
    serve.add_argument(
        "--redis-prefix", default="lrs:ratelimit:", help="prefix of the rate-limit keys in Redis"
    )
    for kind, calls in (
        (LimitKind.LOOKUPS, "FindLearnerByUln and FindLearnerByDemographics calls"),
        (LimitKind.VERIFICATIONS, "VerifyLearner calls"),
        (LimitKind.RECORD_READS, "GetLearnerRecord calls"),
        (LimitKind.REGISTRATIONS, "RegisterLearner calls and BatchRegisterLearners rows"),
    ):
        serve.add_argument(
            f"--limit-{kind.value.replace('_', '-')}",
            dest=f"limit_{kind.value}",
            metavar="PER_MINUTE[/BURST]",
            help=f"per organisation: {calls} a minute, bursts up to BURST (default: one minute's worth); "
            "needs --redis-url; default: no limit",
        )
    _add_smtp(serve, required=False)
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
    add.add_argument("--town", default="", help="where it is: learners search by name, kind and town")
    add.add_argument("--db", help=db_help)
    add.add_argument("--json", action="store_true")
    add.set_defaults(func=cmd_org_add)
    town = org.add_parser("town", help="set where an organisation is (learners search by it)")
    town.add_argument("--ref", required=True)
    town.add_argument("--town", required=True)
    town.add_argument("--db", help=db_help)
    town.set_defaults(func=cmd_org_town)
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
        help="recompute every learner's blocking keys and the term counts (after an upgrade "
        "that changed them; run with the service stopped)",
    )
    rekey.add_argument("--db", help=db_help)
    rekey.set_defaults(func=cmd_rekey)

    audit_cmd = commands.add_parser("audit", help="the access log").add_subparsers(
        dest="audit_command", required=True
    )
    verify = audit_cmd.add_parser("verify", help="check the access log's hash chain (exit 1 on tampering)")
    verify.add_argument("--db", help=db_help)
    verify.set_defaults(func=cmd_audit_verify)

    purge = commands.add_parser(
        "purge",
        help="remove what is past retention (docs/PRIVACY.md); safe while serving, "
        "the access log's hash chain stays verifiable",
    )
    purge.add_argument("--db", help=db_help)
    for name, default, what in (
        ("access-log-days", ACCESS_LOG_DAYS, "access-log detail (and so the notices derived from it)"),
        ("notice-state-days", NOTICE_STATE_DAYS, "a learner's notice marker, unused for this long"),
        ("activation-code-days", ACTIVATION_CODE_DAYS, "activation codes after use or expiry"),
        ("ended-grant-days", ENDED_GRANT_DAYS, "a learner's grant after it expired or was revoked"),
    ):
        purge.add_argument(
            f"--{name}", type=int, default=default, metavar="DAYS", help=f"keep {what} (default {default})"
        )
    purge.set_defaults(func=cmd_purge)

    digests = commands.add_parser(
        "send-digests",
        help="email each learner who asked for it their new notices (run daily, e.g. by cron)",
    )
    digests.add_argument("--db", help=db_help)
    _add_smtp(digests, required=True)
    digests.set_defaults(func=cmd_send_digests)
    return root


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
