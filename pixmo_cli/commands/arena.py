"""`pixmo arena import`: two models' answers to prompts about images, for people to judge."""

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    arena = subparsers.add_parser("arena", help="fill a comparison project with two models' answers")
    actions = arena.add_subparsers(dest="arena_command", metavar="ACTION", required=True)
    parser = actions.add_parser(
        "import", help="import prompts and two models' answers (JSON Lines) into a comparison project",
        description="Each prompts line: {prompt_id, image, prompt, category}; each answers line: "
                    "{prompt_id, model, answer}. Everything is checked before anything is written.")
    parser.add_argument("prompts", help="JSON Lines of prompts; image paths are relative to this file")
    parser.add_argument("--answers-a", required=True, help="the first model's answers (JSON Lines)")
    parser.add_argument("--answers-b", required=True, help="the second model's answers (JSON Lines)")
    parser.add_argument("--project", required=True, help="slug of the comparison project")
    parser.add_argument("--name", help="create the comparison project with this name when the slug is new")
    parser.add_argument("--user", help="username recorded as the importer")
    parser.set_defaults(func=_import)


def _import(args: argparse.Namespace) -> int:
    from pixmo_cli.commands.platform import _call

    return _call("arena_import", args.prompts, answers_a=args.answers_a, answers_b=args.answers_b,
                 project=args.project, project_name=args.name, user=args.user)
