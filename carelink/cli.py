"""The `carelink` command.

`run` and `link` are contracts that outside schedulers call (see docs/cli.md); the rest are
the project's own. Each subcommand is a thin wrapper over a stage's public function: the CLI
and the Airflow DAG call the same code. Heavy packages are imported inside the handlers so
that `carelink --help` answers at once.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from carelink.config import Settings, mask_url

log = logging.getLogger("carelink")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD, got {text!r}") from None


class CommandError(Exception):
    """A failure to report in one line and exit non-zero (no traceback for users)."""


# --- handlers ------------------------------------------------------------------------------


def cmd_generate(args: argparse.Namespace) -> int:
    from synthetic import generate_county, write_person_records

    if args.person_records:
        path = write_person_records(args.out, records=args.person_records, seed=args.seed)
        print(f"person records written under {path}")
        return 0
    summary = generate_county(
        args.out,
        carers=args.carers,
        seed=args.seed,
        first_night=args.first_night,
        nights=args.nights,
        biased_practitioners=args.biased_practitioners,
    )
    for line in summary.lines():
        print(line)
    return 0


def cmd_stage(args: argparse.Namespace) -> int:
    from carelink.errors import NightOutOfOrder
    from carelink.pipeline import stage_night

    settings = _settings(args)
    try:
        outcome = stage_night(settings, args.date)
    except NightOutOfOrder as exc:
        raise CommandError(str(exc)) from exc
    for line in outcome.lines():
        print(line)
    return 0 if outcome.ok else 1


def cmd_link(args: argparse.Namespace) -> int:
    from linkage.cli_link import LinkInputError, link_csv_files

    try:
        summary = link_csv_files(list(args.inputs), args.out, pairs=args.pairs, model=args.model)
    except LinkInputError as exc:
        raise CommandError(str(exc)) from exc
    for line in summary.lines():
        print(line)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from carelink.airflow_runner import run_night
    from carelink.errors import RunInProgress, WarehouseUnreachable
    from warehouse import WarehouseBehind

    settings = _settings(args)
    if not settings.landing_dir.is_dir():
        # Before Airflow starts: under the DAG a missing folder reads as a source outage and
        # is retried for a quarter of an hour, which helps a scheduler, not a person typing.
        raise CommandError(f"landing folder {settings.landing_dir} does not exist "
                           "(--landing, or CARELINK_LANDING)")
    try:
        result = run_night(settings, args.date)
    except (WarehouseBehind, WarehouseUnreachable, RunInProgress) as exc:
        raise CommandError(str(exc)) from exc
    for line in result.lines():
        print(line)
    return result.exit_code


def cmd_demo(args: argparse.Namespace) -> int:
    from carelink.demo import run_demo

    return run_demo(Path(args.data_dir) if args.data_dir else None, carers=args.carers,
                    full_pipeline=not args.stage_only)


def cmd_warehouse_upgrade(args: argparse.Namespace) -> int:
    import warehouse

    settings = _settings(args)
    try:
        revision = warehouse.upgrade(settings.warehouse_url)
    except warehouse.WarehouseBehind as exc:
        print(f"carelink warehouse upgrade: {exc}", file=sys.stderr)
        return 2
    print(f"warehouse at revision {revision}: {mask_url(settings.warehouse_url)}")
    return 0


def cmd_warehouse_roles(args: argparse.Namespace) -> int:
    """Create or update the PostgreSQL roles; passwords from CARELINK_ROLE_PASSWORD_*."""
    import sqlalchemy as sa

    import warehouse
    from carelink.config import role_passwords
    from carelink.errors import driver_reason

    settings = _settings(args)
    passwords = role_passwords()
    engine = warehouse.make_engine(settings.warehouse_url)
    try:
        warehouse.create_roles(engine, passwords)
    except RuntimeError as exc:
        raise CommandError(str(exc)) from exc
    except sa.exc.DBAPIError as exc:
        # The server's words only: SQLAlchemy's own text quotes the statement.
        raise CommandError(f"roles not created: {driver_reason(exc)}") from None
    finally:
        engine.dispose()
    for role, password in passwords.items():
        print(f"{role}: {'login' if password else 'no login (set a password to log in)'}")
    return 0


def cmd_warehouse_docs(args: argparse.Namespace) -> int:
    from warehouse.dictionary import write

    path = write(Path(args.out))
    print(f"data dictionary written to {path}")
    return 0


def cmd_model_list(args: argparse.Namespace) -> int:
    import json

    from linkage.model import current_model

    settings = _settings(args)
    current = current_model(settings.models_dir)
    models = sorted(settings.models_dir.glob("model-*.json"))
    if not models:
        print(f"no linkage models in {settings.models_dir}")
    for path in models:
        meta = json.loads(path.read_text()).get("carelink", {})
        status = "CURRENT" if current and path.name == current.name else (
            "approved" if meta.get("approved_by") else "candidate")
        print(f"{path.name}  {status:9}  threshold {meta.get('threshold')}  trained on "
              f"{meta.get('trained_on')}  approved by {meta.get('approved_by') or '-'}")
    return 0


def cmd_model_train(args: argparse.Namespace) -> int:
    """The training DAG through Airflow, as the weekly schedule would run it."""
    from carelink.airflow_runner import run_training
    from carelink.errors import RunInProgress, WarehouseUnreachable
    from warehouse import WarehouseBehind

    settings = _settings(args)
    try:
        run_id, states = run_training(settings, args.date)
    except (WarehouseBehind, WarehouseUnreachable, RunInProgress) as exc:
        raise CommandError(str(exc)) from exc
    for task_id, state in sorted(states.items()):
        print(f"  {task_id:<22} {state}")
    if any(state != "success" for state in states.values()) or not states:
        print(f"linkage_training {run_id}: failed (see the task logs above)", file=sys.stderr)
        return 1
    print(f"linkage_training {run_id}: candidate ready; review it with `carelink model list` "
          "and approve with `carelink model approve`")
    return 0


def cmd_model_approve(args: argparse.Namespace) -> int:
    from linkage.model import approve_model

    settings = _settings(args)
    path = Path(args.model)
    if not path.is_absolute() and not path.exists():
        path = settings.models_dir / path
    if not path.exists():
        raise CommandError(f"no model {args.model} (see `carelink model list`)")
    approve_model(path, by=args.by, on=args.on)
    print(f"{path.name} approved by {args.by} on {args.on}; the next night scores with it")
    return 0


def cmd_sql(args: argparse.Namespace) -> int:
    import warehouse

    settings = _settings(args)
    frame = warehouse.query(settings.warehouse_url, args.query)
    # an integer column with nulls comes back as float (`5.0`, `NaN`): print it as integers
    print(frame.convert_dtypes().to_string(index=False, max_rows=args.max_rows))
    return 0


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        landing_dir=Path(args.landing).resolve() if getattr(args, "landing", None) else None,
        las_url=getattr(args, "las_url", None),
        warehouse_url=getattr(args, "warehouse", None),
    )


# --- parser --------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="carelink",
        description="Nightly linkage, quality checks and warehouse for unpaid-carer records.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("generate", help="write a synthetic county (landing + truth)")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--carers", type=int, default=3000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--first-night", type=_date, default=date(2026, 11, 22))
    p.add_argument("--nights", type=int, default=3)
    p.add_argument("--biased-practitioners", type=int, default=None,
                   help="how many practitioners score optimistically "
                        "(default: about one in ten; 0: none)")
    p.add_argument("--person-records", type=int, default=0, metavar="N",
                   help="instead, write N canonical person records for linkage benchmarks")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("stage", help="extract and stage one night without Airflow or linkage")
    _add_night_args(p)
    p.set_defaults(func=cmd_stage)

    p = sub.add_parser("run", help="run the nightly pipeline for one extract date (via Airflow)")
    _add_night_args(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("link", help="deduplicate and link person records from CSV files")
    p.add_argument("inputs", nargs="+", type=Path, metavar="INPUT.csv")
    p.add_argument("--out", type=Path, required=True, metavar="CLUSTERS.csv")
    p.add_argument("--pairs", type=Path, metavar="PAIRS.csv")
    p.add_argument("--model", type=Path, metavar="MODEL.json")
    p.set_defaults(func=cmd_link)

    p = sub.add_parser("demo", help="generate a county and run it through the pipeline")
    p.add_argument("--data-dir", help="where to put it (default: CARELINK_DATA_DIR or ./data)")
    p.add_argument("--carers", type=int, default=3000)
    p.add_argument("--stage-only", action="store_true",
                   help="stop after staging the three sources (no Airflow, linkage or gate)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("warehouse", help="warehouse administration")
    wsub = p.add_subparsers(dest="warehouse_command", required=True, metavar="ACTION")
    w = wsub.add_parser("upgrade", help="apply schema migrations")
    w.add_argument("--warehouse", metavar="URL")
    w.set_defaults(func=cmd_warehouse_upgrade)
    w = wsub.add_parser("roles", help="create/update the PostgreSQL roles and grants")
    w.add_argument("--warehouse", metavar="URL")
    w.set_defaults(func=cmd_warehouse_roles)
    w = wsub.add_parser("docs", help="regenerate the data dictionary (docs/warehouse.md)")
    w.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "docs"
                                        / "warehouse.md"))
    w.set_defaults(func=cmd_warehouse_docs)

    p = sub.add_parser("model", help="linkage models: list candidates, approve one (IG)")
    msub = p.add_subparsers(dest="model_command", required=True, metavar="ACTION")
    m = msub.add_parser("train", help="run the linkage_training DAG: a candidate for IG")
    m.add_argument("--date", type=_date, required=True,
                   help="the training run's date YYYY-MM-DD (recorded as trained_on)")
    m.add_argument("--warehouse", metavar="URL", help="warehouse holding the staged records")
    m.set_defaults(func=cmd_model_train)
    m = msub.add_parser("list", help="models, their status and threshold")
    m.set_defaults(func=cmd_model_list)
    m = msub.add_parser("approve", help="record IG approval and make the model current")
    m.add_argument("model", help="model file name (in CARELINK_MODELS_DIR) or path")
    m.add_argument("--by", required=True, help="who approves (recorded in the model)")
    m.add_argument("--on", type=_date, required=True, help="approval date YYYY-MM-DD")
    m.set_defaults(func=cmd_model_approve)

    p = sub.add_parser("sql", help="run a query against the warehouse and print the result")
    p.add_argument("query")
    p.add_argument("--warehouse", metavar="URL")
    p.add_argument("--max-rows", type=int, default=60)
    p.set_defaults(func=cmd_sql)
    return parser


def _add_night_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--landing", metavar="DIR", help="landing folder (default: configuration)")
    p.add_argument("--date", type=_date, required=True, metavar="YYYY-MM-DD")
    p.add_argument("--las-url", metavar="URL", help="LAS reporting database (SQLAlchemy URL)")
    p.add_argument("--warehouse", metavar="URL", help="warehouse (SQLAlchemy URL)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    # Third-party chatter (Alembic's plugin set-up, GX, Airflow internals) hides what matters.
    for noisy in ("alembic", "great_expectations", "splink", "airflow", "py4j"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return int(args.func(args))
    except CommandError as exc:
        print(f"carelink {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
