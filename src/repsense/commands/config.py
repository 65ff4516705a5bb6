"""``repsense config``: the effective configuration and where it comes from."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "config",
        help="show the effective configuration (secrets masked), its files, or write a template",
        description="Settings come from flags, then REPSENSE_<SECTION>_<KEY> environment "
        "variables (e.g. REPSENSE_MQTT_URL), then the config file (REPSENSE_CONFIG, else "
        "config.toml in REPSENSE_CONFIG_DIR or the platform's user config folder), then "
        "defaults. `show` prints every value with its source, passwords masked; `path` prints "
        "the config file; `init` writes a commented template if there is none.",
    )
    p.add_argument("action", nargs="?", choices=("show", "path", "init"), default="show",
                   help="what to do (default: show)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from repsense.live.config import TEMPLATE, Config, config_file

    if args.action == "path":
        print(config_file())
        return 0
    if args.action == "init":
        path = config_file()
        if path.exists():
            print(f"{path} exists already; not touched")
            return 0
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(TEMPLATE, encoding="utf-8")
        path.chmod(0o600)  # it may hold a broker password
        print(f"wrote {path}")
        return 0
    print(Config().show())
    return 0
