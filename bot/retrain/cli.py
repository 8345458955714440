"""Command line: `python -m bot.retrain review|merge|retrain|rollback` (paths are options,
so the same commands run on a tiny project in tests).

    python -m bot.retrain review --days 7 --threshold 0.6          # chat_logs -> review file
    python -m bot.retrain review --from-jsonl logs.jsonl --out review.yml
    python -m bot.retrain merge reports/nlu/review/review-....yml  # -> nlu/reviewed.yml
    python -m bot.retrain retrain --rasa-url http://127.0.0.1:5005 # gate + promote
    python -m bot.retrain rollback --rasa-url http://127.0.0.1:5005
    python -m bot.retrain job --mongodb-url mongodb://...          # a training job (no checkout
                                                                   # writes; e.g. a Kubernetes Job)

Exit codes: 0 ok (retrain: promoted or evaluated), 1 error, 3 retrain refused,
4 merge refused by `rasa data validate`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.retrain import merge as merge_mod
from bot.retrain import promote, rasa_proc
from bot.retrain.evaluation import Rule
from bot.retrain.pii import PiiContext
from bot.retrain.project import REPO_ROOT, Project
from bot.retrain.review import ReviewOptions, build_review, load_inbound_jsonl

log = logging.getLogger(__name__)

REFUSED = 3
INVALID = 4


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bot.retrain", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--project", type=Path, default=REPO_ROOT,
                   help="assistant project root (domain.yml, config.yml, nlu/)")
    p.add_argument("--rasa-bin", type=Path, default=None, help="the rasa executable")
    p.add_argument("--test-set", type=Path, default=None,
                   help="frozen held-out NLU test set (default tests/rasa/nlu_test_set.yml)")
    p.add_argument("--reports-dir", type=Path, default=None,
                   help="where reports and review files go (default reports/nlu)")
    p.add_argument("--json", action="store_true", help="print a JSON result")
    sub = p.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                        help="print a JSON result")

    r = sub.add_parser("review", parents=[common], help="build the review file from chat logs")
    r.add_argument("--out", type=Path, default=None)
    r.add_argument("--from-jsonl", type=Path, default=None,
                   help="read exported chat_logs (one JSON document a line) instead of Mongo")
    r.add_argument("--mongodb-url", default=None, help="default: MONGODB_URL / settings")
    r.add_argument("--days", type=int, default=7)
    r.add_argument("--since", type=datetime.fromisoformat, default=None)
    r.add_argument("--until", type=datetime.fromisoformat, default=None)
    r.add_argument("--threshold", type=float, default=ReviewOptions.low_confidence,
                   help="review messages with NLU confidence below this")
    r.add_argument("--rephrase-window", type=float, default=ReviewOptions.rephrase_window_s,
                   help="seconds within which a next message counts as a rephrase")

    m = sub.add_parser("merge", parents=[common],
                       help="validate the edited review file and add it to nlu/")
    m.add_argument("file", type=Path)
    m.add_argument("--into", type=Path, default=None, help="default nlu/reviewed.yml")
    m.add_argument("--no-validate", action="store_true", help="skip rasa data validate")
    m.add_argument("--dry-run", action="store_true")

    t = sub.add_parser("retrain", parents=[common],
                       help="train a candidate and promote it if it is not worse")
    t.add_argument("--rasa-url", action="append", default=[],
                   help="running Rasa server(s) to load the promoted model (repeatable)")
    t.add_argument("--current", type=Path, default=None,
                   help="model to compare with when none was promoted yet")
    t.add_argument("--tolerance", type=float, default=Rule.tolerance)
    t.add_argument("--entity-tolerance", type=float, default=Rule.entity_tolerance)
    t.add_argument("--sharp-drop", type=float, default=Rule.sharp_drop)
    t.add_argument("--min-support", type=int, default=Rule.min_support)
    t.add_argument("--cross-validation", type=int, default=0, metavar="K",
                   help="also run K-fold cross-validation (about K trainings)")
    t.add_argument("--dry-run", action="store_true", help="evaluate only, never promote")

    b = sub.add_parser("rollback", parents=[common], help="serve the previous model again")
    b.add_argument("--rasa-url", action="append", default=[])

    j = sub.add_parser("job", parents=[common],
                       help="run one training job of the NLU inbox (as POST /admin/nlu/retrain)")
    j.add_argument("--mongodb-url", default=None, help="default: MONGODB_URL / settings")
    return p


def _project(args: argparse.Namespace) -> Project:
    return Project.at(args.project, rasa_bin=args.rasa_bin, test_set=args.test_set,
                      reviewed_file=getattr(args, "into", None), reports_dir=args.reports_dir)


def _window(args: argparse.Namespace) -> tuple[datetime, datetime]:
    until = args.until or datetime.now(UTC)
    since = args.since or until - timedelta(days=args.days)
    return (since if since.tzinfo else since.replace(tzinfo=UTC),
            until if until.tzinfo else until.replace(tzinfo=UTC))


def _logs_from_mongo(url: str | None, since: datetime, until: datetime
                     ) -> tuple[list[dict[str, Any]], PiiContext]:
    from app.settings import load_settings
    from booking.store import MongoStore, Store

    if url is None:
        settings = load_settings()
        url = settings.mongodb_url.get_secret_value() if settings.mongodb_url else None
    if not url or url.startswith("mongomock://"):
        raise SystemExit("review needs MONGODB_URL (or --from-jsonl): the embedded store "
                         "lives inside the running app; use POST /admin/nlu/review there")
    ms = MongoStore.from_url(url)
    try:
        rs = Store(ms).retrain

        async def fetch() -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
            logs = await rs.inbound_messages(since, until)
            ctx = await rs.masking_context(sorted({str(d.get("wa_id")) for d in logs}))
            return logs, ctx

        logs, ctx = asyncio.run(fetch())
    finally:
        ms.close()
    return logs, PiiContext.build(ctx["names"], ctx["doctors"], ctx["refs"])


def cmd_review(args: argparse.Namespace, project: Project) -> int:
    since, until = _window(args)
    opts = ReviewOptions(low_confidence=args.threshold, rephrase_window_s=args.rephrase_window)
    if args.from_jsonl:
        logs, pii = load_inbound_jsonl(args.from_jsonl), PiiContext()
        period = f"from {args.from_jsonl.name}"
    else:
        logs, pii = _logs_from_mongo(args.mongodb_url, since, until)
        period = f"{since:%Y-%m-%d %H:%M} to {until:%Y-%m-%d %H:%M} UTC"
    review = build_review(logs, pii, opts, period=period)
    out = args.out or project.review_dir / f"review-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.yml"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(review.yaml, encoding="utf-8")
    summary = {**review.summary(), "file": str(out)}
    print(json.dumps(summary) if args.json else
          f"{summary['messages']} messages in {summary['groups']} groups -> {out}")
    return 0


def cmd_merge(args: argparse.Namespace, project: Project) -> int:
    try:
        result = merge_mod.merge(project, args.file, validate=not args.no_validate,
                                 dry_run=args.dry_run)
    except merge_mod.ValidationFailed as exc:
        print(str(exc), file=sys.stderr)
        return INVALID
    print(json.dumps(result.to_json(), ensure_ascii=False) if args.json else result.text())
    return 0


def cmd_retrain(args: argparse.Namespace, project: Project) -> int:
    rule = Rule(args.tolerance, args.entity_tolerance, args.sharp_drop, args.min_support)
    outcome = promote.retrain(project, rasa_urls=args.rasa_url, rule=rule,
                              current=args.current, cross_validation=args.cross_validation,
                              dry_run=args.dry_run)
    if args.json:
        print(json.dumps(outcome.to_json()))
    else:
        print(f"{outcome.decision}: report {outcome.report}")
        for reason in outcome.verdict.reasons:
            print("  -", reason)
    return REFUSED if outcome.decision == "refused" else 0


def cmd_rollback(args: argparse.Namespace, project: Project) -> int:
    outcome = promote.rollback(project, args.rasa_url)
    print(json.dumps(outcome.__dict__) if args.json else
          f"now serving {outcome.now_serving} (rolled back {outcome.rolled_back})")
    return 0


def cmd_job(args: argparse.Namespace, project: Project) -> int:
    """The same job the admin API starts (bot/retrain/jobs.py), against a real MongoDB:
    committed nlu/ + labelled inbox groups, trained in a temporary directory, gated, stored
    in the model store; promotion stays an admin action."""
    from app.settings import load_settings
    from booking.store import MongoStore, Store
    from bot.retrain.jobs import JobConfig, TrainingJobs

    url = args.mongodb_url
    if url is None:
        settings = load_settings()
        url = settings.mongodb_url.get_secret_value() if settings.mongodb_url else None
    if not url or url.startswith("mongomock://"):
        raise SystemExit("job needs MONGODB_URL: the embedded store lives inside the running "
                         "app; use POST /admin/nlu/retrain there")
    ms = MongoStore.from_url(url)

    async def run() -> dict[str, Any] | None:
        jobs = TrainingJobs(Store(ms), JobConfig(project))
        job = await jobs.start("cli")
        if job is None:
            return None
        await jobs.wait(job["_id"])
        return await jobs.get(job["_id"])

    try:
        done = asyncio.run(run())
    finally:
        ms.close()
    if done is None:
        print("error: a training job is running", file=sys.stderr)
        return 1
    summary = {k: done.get(k) for k in ("_id", "state", "model_id", "error")}
    summary["gate_passed"] = (done.get("gate") or {}).get("passed")
    print(json.dumps(summary, default=str) if args.json else
          f"job {summary['_id']}: {summary['state']}, model {summary['model_id']}, "
          f"gate {'passed' if summary['gate_passed'] else 'failed'}")
    if done.get("state") != "succeeded":
        return 1
    return 0 if summary["gate_passed"] else REFUSED


COMMANDS = {"review": cmd_review, "merge": cmd_merge, "retrain": cmd_retrain,
            "rollback": cmd_rollback, "job": cmd_job}


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = _parser().parse_args(argv)
    project = _project(args)
    try:
        return COMMANDS[args.command](args, project)
    except (rasa_proc.RasaError, promote.NothingToRollBack, FileNotFoundError,
            RuntimeError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
