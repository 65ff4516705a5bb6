"""``repsense sessions``: the history of live sessions."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sessions",
        help="list stored training sessions or show one's summary",
        description="List the sessions stored by `repsense live` (under the data directory: "
        "REPSENSE_DATA_DIR, paths.data_dir in the config, or the platform's user data folder), "
        "or print one session's summary with `repsense sessions show ID` (an id, a unique "
        "prefix or 'latest').",
    )
    p.add_argument("action", nargs="?", choices=("list", "show", "path"), default="list",
                   help="what to do (default: list)")
    p.add_argument("id", nargs="?", help="session id, unique prefix or 'latest'")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from repsense.errors import InputError
    from repsense.live.config import Config, data_dir
    from repsense.live.store import SessionStore

    store = SessionStore(data_dir(Config()))
    if args.action == "path":
        print(store.root)
        return 0
    if args.action == "show":
        if not args.id:
            raise InputError("sessions show: give a session id (see `repsense sessions`)")
        stored = store.load(args.id)
        if args.json:
            print(json.dumps(stored.summary, indent=2))
        else:
            print(format_summary(stored.summary, str(stored.path)))
        return 0
    if args.id:
        raise InputError(f"sessions: unexpected '{args.id}'; did you mean `repsense sessions show "
                         f"{args.id}`?")
    sessions = store.list()
    if args.json:
        print(json.dumps([s.summary for s in sessions], indent=2))
        return 0
    if not sessions:
        print(f"no sessions yet in {store.root}; `repsense live` stores one")
        return 0
    for s in sessions:
        d = s.summary
        plan = (d.get("plan") or {}).get("name") or "free"
        status = "" if d.get("status") == "complete" else f"  [{d.get('status')}]"
        print(f"{s.id}  {d.get('started_at', '?'):<20}  plan {plan:<30}  "
              f"{d.get('total_sets', 0):>3} sets {d.get('total_reps', 0):>4} reps  "
              f"{d.get('sensor', '')}{status}")
    return 0


def format_summary(d: dict, path: str) -> str:
    """A readable summary of one session."""
    lines = [f"session {d.get('id')} ({d.get('status')}) — {path}",
             f"started {d.get('started_at')}, ended {d.get('ended_at')}, sensor {d.get('sensor')}"
             f", {d.get('samples', 0)} samples at {d.get('sample_rate_hz')} Hz"]
    plan = d.get("plan")
    if plan:
        lines.append(f"plan {plan['title']} [{plan['name']}]: {plan['sets_done']}/"
                     f"{plan['total_sets']} planned sets done"
                     + (" — complete" if plan.get("completed") else ""))
    lines.append(f"{d.get('total_sets', 0)} sets, {d.get('total_reps', 0)} reps; ended: "
                 f"{d.get('end_reason', '')}")
    for s in d.get("sets", []):
        target = f"/{s['target_reps']}" if s.get("target_reps") else ""
        of = f"/{s['sets_total']}" if s.get("sets_total") else ""
        tempos = [r.get("tempo") for r in s.get("rep_detail", [])]
        usual = max(set(tempos), key=tempos.count) if tempos else "-"
        want = f" (target {s['target_tempo']})" if s.get("target_tempo") else ""
        vl = s.get("velocity_loss_pct")
        vl_text = "" if vl is None else f", velocity loss {vl:.0f}%"
        lines.append(f"  set {s['index']:>2}: {s['name']} {s['set_number']}{of} — "
                     f"{s['reps']}{target} reps, tempo {usual}{want}{vl_text}")
        cues = {c for r in s.get("rep_detail", []) for c in r.get("cues", [])}
        if cues:
            lines.append(f"          cues: {'; '.join(sorted(cues))}")
    if d.get("warnings"):
        lines.append(f"{len(d['warnings'])} warnings, e.g. {d['warnings'][0].get('message')}")
    return "\n".join(lines)
