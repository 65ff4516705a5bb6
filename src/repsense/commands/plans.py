"""``repsense plans``: the training plans live sessions can follow."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "plans",
        help="list training plans, show one, or check a plan file",
        description="List the bundled training plans and your own (TOML files in "
        "<config dir>/plans/, which win over a bundled plan of the same name). "
        "`repsense plans show NAME|FILE` prints one; `repsense plans check FILE` validates a "
        "plan file; `repsense plans path` prints the folder for your own plans.",
    )
    p.add_argument("action", nargs="?", choices=("list", "show", "check", "path"), default="list",
                   help="what to do (default: list)")
    p.add_argument("name", nargs="?", metavar="NAME|FILE", help="plan name or .toml file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from repsense.errors import InputError
    from repsense.live.plans import (
        available_plans,
        find_plan,
        format_plan,
        load_plan_file,
        user_plan_dir,
    )

    if args.action == "path":
        print(user_plan_dir())
        return 0
    if args.action in ("show", "check"):
        if not args.name:
            raise InputError(f"plans {args.action}: give a plan name or a .toml file")
        plan = load_plan_file(args.name) if args.action == "check" else find_plan(args.name)
        if args.action == "check":
            print(f"{args.name}: ok — '{plan.name}', {plan.total_sets} sets")
        else:
            print(format_plan(plan))
        return 0
    if args.name:
        raise InputError(f"plans: unexpected '{args.name}'; did you mean `repsense plans show "
                         f"{args.name}`?")
    plans = available_plans()
    width = max(len(n) for n in plans)
    for name, plan in plans.items():
        exercises = ", ".join(dict.fromkeys(e.name for e in plan.exercises))
        origin = "bundled" if plan.source.startswith("bundled:") else "yours"
        print(f"{name:<{width}}  {plan.title} — {plan.total_sets} sets: {exercises} ({origin})")
    print(f"\nyour own plans go in {user_plan_dir()}; `repsense plans show NAME` for details")
    return 0
