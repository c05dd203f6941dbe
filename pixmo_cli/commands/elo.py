"""`pixmo elo JUDGMENTS.csv`: the human-preference leaderboard from a CSV of pairwise judgments."""

from __future__ import annotations

import argparse
import csv

from pixmo_cli.main import CommandError

COLUMNS = ("model_a", "model_b", "winner")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "elo",
        help="fit Bradley–Terry to pairwise judgments and print Elo ratings with 95%% intervals",
        description=(
            "Read a CSV with columns model_a, model_b, winner (a, b, tie, tie_bad, dont_know) and print "
            "one line per model: rank, name, Elo, bootstrap 95%% interval, games. Ties of both kinds count "
            "as half a win for each model; dont_know rows are dropped."
        ),
    )
    parser.add_argument("judgments", help="CSV file with a header row")
    parser.add_argument("--bootstrap", type=int, default=200, help="bootstrap resamples (default 200)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the bootstrap (default 0)")
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    from annotation_app.analytics.elo import elo_leaderboard

    if args.bootstrap < 0:
        raise CommandError("--bootstrap must be 0 or more.")
    judgments = read_judgments(args.judgments)
    board = elo_leaderboard(judgments=judgments, bootstrap=args.bootstrap, seed=args.seed)
    if not board.ratings:
        raise CommandError(f"{args.judgments} has no judgment other than dont_know.")
    width = max(len(r.name) for r in board.ratings)
    for r in board.ratings:
        print(f"{r.rank:>3}  {r.name:<{width}}  {r.elo:7.1f}  [{r.low:7.1f}, {r.high:7.1f}]  {r.games} games")
    return 0


def read_judgments(path: str) -> list:
    from annotation_app.analytics.elo import judgment_check

    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise CommandError(f"{path} lacks the column(s) {', '.join(missing)}; it needs {', '.join(COLUMNS)}.")
            return [_row(path, line, row, judgment_check) for line, row in enumerate(reader, start=2)]
    except FileNotFoundError:
        raise CommandError(f"{path} does not exist.") from None
    except IsADirectoryError:
        raise CommandError(f"{path} is a folder; pass the CSV file of judgments.") from None
    except (UnicodeDecodeError, csv.Error) as error:
        raise CommandError(f"{path} is not a readable CSV file ({error}).") from None


def _row(path, line, row, judgment_check):
    try:
        return judgment_check(model_a=row["model_a"] or "", model_b=row["model_b"] or "", winner=row["winner"] or "")
    except ValueError as error:
        raise CommandError(f"{path} line {line}: {error}.") from None
