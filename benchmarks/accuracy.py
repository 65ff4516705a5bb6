"""Accuracy of rep counting, set structure, exercise recognition and tempo.

Runs the same analysis as ``repsense analyze --format json`` (in process, via
:func:`repsense.analysis.analyze_recording`) over every recording (``*.csv``
with a sidecar) in the given directories and compares it with the sidecar
labels.  Detected sets are matched to labelled sets by time overlap (in order
when the labels carry no times); reps by time overlap.  A plain peak-picking
counter (``baseline.py``: ``loadtxt`` + ``find_peaks``) is scored the same way
so the gap between the two is visible.

Usage::

    python benchmarks/accuracy.py recordings ../shared/datasets/uci-pt \
        ../shared/datasets/mex-bridging [--json] [--exercise auto]

Recordings without labels (``labels: null``) are analysed and their counts
shown, marked ``unlabelled``; they do not enter the totals.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import command_line, emit, machine_info, table  # noqa: E402
from baseline import count as baseline_count  # noqa: E402
from baseline import load as baseline_load  # noqa: E402

FAMILY = {
    "leg_curl": "curl",
    "deadlift": "hinge",
    "romanian_deadlift": "hinge",
    "single_leg_deadlift": "hinge",
    "glute_bridge": "bridge",
    "hip_thrust": "bridge",
    "generic": "generic",
}
# Free-text ``movement`` of real datasets -> family.  Anything else a leg can
# repeat (knee extension, leg raise, abduction...) is ``generic`` by design.
MOVEMENT_WORDS = (
    ("curl", "curl"),
    ("deadlift", "hinge"),
    ("bridg", "bridge"),
    ("hip thrust", "bridge"),
)

TARGETS = {
    "exact_pct": 95.0,
    "within1_pct": 100.0,
    "structure_pct": 95.0,
    "family_pct": 90.0,
    "tempo_median_s": 0.15,
}


# --------------------------------------------------------------------------- matching


def overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Length of the intersection of two time intervals (0 when disjoint)."""
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


def match_intervals(
    labelled: Sequence[tuple[float, float]], detected: Sequence[tuple[float, float]]
) -> dict[int, int]:
    """Greedy one-to-one matching by largest overlap: ``{labelled index: detected index}``."""
    pairs = []
    for i, a in enumerate(labelled):
        for j, b in enumerate(detected):
            ov = overlap(a, b)
            if ov > 0:
                pairs.append((ov, i, j))
    pairs.sort(reverse=True)
    out: dict[int, int] = {}
    used: set[int] = set()
    for _, i, j in pairs:
        if i not in out and j not in used:
            out[i] = j
            used.add(j)
    return out


def _median(values: list[float]) -> float | None:
    return float(statistics.median(values)) if values else None


# --------------------------------------------------------------------------- analysis output


def detected_sets(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Normalise the ``repsense.analysis/1`` sets to ``{start_s, end_s, count, exercise, reps}``."""
    out = []
    for s in result.get("sets", []):
        reps = s.get("reps")
        rep_list = reps if isinstance(reps, list) else s.get("rep_detail", []) or []
        if isinstance(reps, int):
            n = reps
        elif "rep_count" in s:
            n = int(s["rep_count"])
        else:
            n = len(rep_list)
        out.append(
            {
                "start_s": float(s.get("start_s", 0.0)),
                "end_s": float(s.get("end_s", 0.0)),
                "count": n,
                "exercise": s.get("exercise"),
                "confidence": s.get("confidence"),
                "reps": rep_list,
            }
        )
    return out


def expected_family(label_set: dict[str, Any], meta: dict[str, Any]) -> str | None:
    """The exercise family a labelled set should be recognised as (None: unknown)."""
    ex = label_set.get("exercise") or meta.get("exercise")
    if ex in FAMILY:
        return FAMILY[ex]
    movement = str(meta.get("movement") or "").lower()
    if not movement:
        return None
    for word, fam in MOVEMENT_WORDS:
        if word in movement:
            return fam
    return "generic"


def label_name(label_set: dict[str, Any], meta: dict[str, Any]) -> str:
    return str(label_set.get("exercise") or meta.get("exercise") or meta.get("movement") or "?")


# --------------------------------------------------------------------------- scoring


def score_sets(
    label_sets: list[dict[str, Any]], found: list[dict[str, Any]]
) -> tuple[dict[int, int], str]:
    """Match labelled sets to found sets; by overlap when the labels have times."""
    if label_sets and all("start_s" in s and "end_s" in s for s in label_sets):
        spans = [(float(s["start_s"]), float(s["end_s"])) for s in label_sets]
        return match_intervals(spans, [(f["start_s"], f["end_s"]) for f in found]), "overlap"
    return {i: i for i in range(min(len(label_sets), len(found)))}, "order"


ERROR_KEYS = ("concentric", "eccentric", "start", "end", "partial_label", "partial_found")
"""Per-rep lists a matched set collects (``partial_*``: 1.0/0.0 flags, not errors)."""


def _new_errors() -> dict[str, list[float]]:
    return {k: [] for k in ERROR_KEYS}


def rep_errors(label_set: dict[str, Any], found: dict[str, Any]) -> dict[str, list[float]]:
    """Tempo and boundary errors of the reps of one matched set."""
    errs = _new_errors()
    det = [r for r in found["reps"] if isinstance(r, dict) and "start_s" in r and "end_s" in r]
    det_spans = [(float(r["start_s"]), float(r["end_s"])) for r in det]
    detail = label_set.get("rep_detail") or []
    if detail:
        spans = [(float(r["start_s"]), float(r["end_s"])) for r in detail]
        for i, j in match_intervals(spans, det_spans).items():
            for key in ("concentric", "eccentric"):
                lab, got = detail[i].get(f"{key}_s"), det[j].get(f"{key}_s")
                if lab is not None and got is not None:
                    errs[key].append(abs(float(got) - float(lab)))
            if "partial" in detail[i] and "partial" in det[j]:
                # 1.0/0.0 pairs, labelled then found, for the partial flag's precision/recall
                errs["partial_label"].append(float(bool(detail[i]["partial"])))
                errs["partial_found"].append(float(bool(det[j]["partial"])))
    bounds = label_set.get("rep_bounds_s") or []
    if not detail and bounds:
        spans = [(float(a), float(b)) for a, b in bounds]
        for i, j in match_intervals(spans, det_spans).items():
            errs["start"].append(abs(det_spans[j][0] - spans[i][0]))
            errs["end"].append(abs(det_spans[j][1] - spans[i][1]))
    elif detail:
        spans = [(float(r["start_s"]), float(r["end_s"])) for r in detail]
        for i, j in match_intervals(spans, det_spans).items():
            errs["start"].append(abs(det_spans[j][0] - spans[i][0]))
            errs["end"].append(abs(det_spans[j][1] - spans[i][1]))
    return errs


def evaluate_file(
    path: Path,
    analyze: Callable[..., dict[str, Any]],
    exercise: str,
    with_baseline: bool,
) -> dict[str, Any]:
    """Analyse one recording and score it against its sidecar labels."""
    meta_path = path.with_suffix(".json")
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
    labels = meta.get("labels")
    label_sets = list(labels.get("sets", [])) if isinstance(labels, dict) else None
    placement = meta.get("placement") or "auto"
    row: dict[str, Any] = {"file": path.name, "dir": path.parent.name, "placement": placement}

    if exercise == "label":  # the labelled exercise, when the file holds only one
        named = {s.get("exercise") for s in label_sets or []} | {meta.get("exercise")}
        named.discard(None)
        exercise = named.pop() if len(named) == 1 and next(iter(named)) in FAMILY else "auto"
    row["exercise_given"] = exercise
    t0 = time.perf_counter()
    try:
        result = analyze(path, exercise=exercise, placement=placement)
        found = detected_sets(result)
        row["error"] = None
    except Exception as exc:  # the benchmark reports failures instead of stopping
        found = []
        row["error"] = f"{type(exc).__name__}: {exc}"
        if not isinstance(exc, ValueError):
            row["traceback"] = traceback.format_exc(limit=3)
    row["analyze_s"] = time.perf_counter() - t0
    row["found_counts"] = [f["count"] for f in found]
    row["found_exercises"] = [f["exercise"] for f in found]

    base: list[dict[str, Any]] = []
    if with_baseline:
        try:
            t, acc = baseline_load(path)
            base = [
                {"start_s": s["start_s"], "end_s": s["end_s"], "count": s["reps"]}
                for s in baseline_count(t, acc)
            ]
        except Exception as exc:  # a plain script just fails on odd files
            row["baseline_error"] = f"{type(exc).__name__}: {exc}"
    row["baseline_counts"] = [b["count"] for b in base]

    if label_sets is None:
        row["labelled"] = False
        return row

    row["labelled"] = True
    row["label_counts"] = [int(s["reps"]) for s in label_sets]
    matched, how = score_sets(label_sets, found)
    bmatched, _ = score_sets(label_sets, base)
    row["matched_by"] = how
    row["structure_ok"] = len(found) == len(label_sets)
    row["baseline_structure_ok"] = len(base) == len(label_sets)
    sets = []
    for i, ls in enumerate(label_sets):
        want = int(ls["reps"])
        j = matched.get(i)
        got = found[j]["count"] if j is not None else 0
        bj = bmatched.get(i)
        bgot = base[bj]["count"] if bj is not None else 0
        fam = expected_family(ls, meta)
        det_ex = found[j]["exercise"] if j is not None else None
        entry: dict[str, Any] = {
            "label": label_name(ls, meta),
            "reps": want,
            "found": got,
            "exact": got == want,
            "within1": abs(got - want) <= 1,
            "baseline_found": bgot,
            "baseline_exact": bgot == want,
            "baseline_within1": abs(bgot - want) <= 1,
            "expected_family": fam,
            "exercise": det_ex,
            "confidence": found[j]["confidence"] if j is not None else None,
            "family_ok": None if fam is None else (FAMILY.get(det_ex or "") == fam),
            "errors": rep_errors(ls, found[j]) if j is not None else {},
        }
        sets.append(entry)
    row["sets"] = sets
    row["extra_sets"] = len(found) - len(matched)
    return row


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Totals over the labelled rows."""
    lab = [r for r in rows if r.get("labelled")]
    sets = [s for r in lab for s in r["sets"]]
    fam = [s for s in sets if s["family_ok"] is not None]
    named = [s for s in fam if FAMILY.get(s["exercise"] or "", "generic") != "generic"]
    errs = _new_errors()
    for s in sets:
        for k, v in s["errors"].items():
            errs[k].extend(v)
    pairs = list(zip(errs["partial_label"], errs["partial_found"], strict=True))
    both = sum(1 for a, b in pairs if a and b)
    labelled_partial = sum(1 for a, _ in pairs if a)

    def pct(n: int, d: int) -> float | None:
        return 100.0 * n / d if d else None

    return {
        "files": len(rows),
        "labelled_files": len(lab),
        "sets": len(sets),
        "exact_pct": pct(sum(s["exact"] for s in sets), len(sets)),
        "within1_pct": pct(sum(s["within1"] for s in sets), len(sets)),
        "structure_pct": pct(sum(r["structure_ok"] for r in lab), len(lab)),
        "family_pct": pct(sum(s["family_ok"] for s in fam), len(fam)),
        "family_sets": len(fam),
        # Of the sets given a family other than generic, how many got the right one
        # (a wrong name misleads; "generic, with a note" only declines to guess).
        "named_right_pct": pct(sum(s["family_ok"] for s in named), len(named)),
        "generic_pct": pct(sum(FAMILY.get(s["exercise"] or "") == "generic"
                               and s["expected_family"] != "generic" for s in fam), len(fam)),
        "concentric_med_s": _median(errs["concentric"]),
        "eccentric_med_s": _median(errs["eccentric"]),
        "tempo_reps": len(errs["concentric"]),
        "start_med_s": _median(errs["start"]),
        "end_med_s": _median(errs["end"]),
        "bound_reps": len(errs["start"]),
        # The `partial` flag on matched reps whose label says whether they were partial.
        "partial_recall_pct": pct(both, labelled_partial),
        "partial_precision_pct": pct(both, sum(1 for _, b in pairs if b)),
        "partial_reps": labelled_partial,
        "baseline_exact_pct": pct(sum(s["baseline_exact"] for s in sets), len(sets)),
        "baseline_within1_pct": pct(sum(s["baseline_within1"] for s in sets), len(sets)),
        "baseline_structure_pct": pct(sum(r["baseline_structure_ok"] for r in lab), len(lab)),
        "errors": sum(1 for r in rows if r.get("error")),
        "analyze_s": sum(r["analyze_s"] for r in rows),
    }


def per_exercise(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Totals per labelled exercise (or movement) and placement."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        for s in r.get("sets", []) if r.get("labelled") else []:
            groups.setdefault((s["label"], r["placement"]), []).append(s)
    out = []
    for (label, placement), sets in sorted(groups.items()):
        fam = [s for s in sets if s["family_ok"] is not None]
        conc = [e for s in sets for e in s["errors"].get("concentric", [])]
        ecc = [e for s in sets for e in s["errors"].get("eccentric", [])]
        out.append(
            {
                "exercise": label,
                "placement": placement,
                "sets": len(sets),
                "exact%": 100.0 * sum(s["exact"] for s in sets) / len(sets),
                "±1%": 100.0 * sum(s["within1"] for s in sets) / len(sets),
                "family%": 100.0 * sum(s["family_ok"] for s in fam) / len(fam) if fam else None,
                "recognised as": ",".join(sorted({str(s["exercise"]) for s in sets})),
                "conc err s": _median(conc),
                "ecc err s": _median(ecc),
                "base exact%": 100.0 * sum(s["baseline_exact"] for s in sets) / len(sets),
            }
        )
    return out


def file_table_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        counts = ",".join(str(c) for c in r["found_counts"]) or "0"
        bcounts = ",".join(str(c) for c in r["baseline_counts"]) or "0"
        if r.get("error"):
            counts = "ERROR"
        fams = ",".join(sorted({str(e) for e in r["found_exercises"]})) or "-"
        if not r.get("labelled"):
            out.append({"file": r["file"], "labels": "unlabelled", "repsense": counts,
                        "baseline": bcounts, "exercise": fams, "s": r["analyze_s"]})
            continue
        sets = r["sets"]
        conc = [e for s in sets for e in s["errors"].get("concentric", [])]
        ecc = [e for s in sets for e in s["errors"].get("eccentric", [])]
        st = [e for s in sets for e in s["errors"].get("start", [])]
        en = [e for s in sets for e in s["errors"].get("end", [])]
        fam = [s for s in sets if s["family_ok"] is not None]
        out.append(
            {
                "file": r["file"],
                "labels": ",".join(str(c) for c in r["label_counts"]),
                "repsense": counts,
                "baseline": bcounts,
                "exact": f"{sum(s['exact'] for s in sets)}/{len(sets)}",
                "±1": f"{sum(s['within1'] for s in sets)}/{len(sets)}",
                "sets ok": "yes" if r["structure_ok"] else "NO",
                "family": f"{sum(s['family_ok'] for s in fam)}/{len(fam)}" if fam else "-",
                "exercise": fams,
                "conc": _median(conc),
                "ecc": _median(ecc),
                "start": _median(st),
                "end": _median(en),
                "s": r["analyze_s"],
            }
        )
    return out


FILE_COLS = ["file", "labels", "repsense", "baseline", "exact", "±1", "sets ok", "family",
             "exercise", "conc", "ecc", "start", "end", "s"]
TOTAL_COLS = ["group", "files", "sets", "exact_pct", "within1_pct", "structure_pct",
              "family_pct", "named_right_pct", "generic_pct", "concentric_med_s",
              "eccentric_med_s", "start_med_s", "end_med_s", "partial_recall_pct",
              "partial_precision_pct",
              "baseline_exact_pct", "baseline_within1_pct", "baseline_structure_pct", "errors"]
EX_COLS = ["exercise", "placement", "sets", "exact%", "±1%", "family%", "recognised as",
           "conc err s", "ecc err s", "base exact%"]


def targets_met(total: dict[str, Any]) -> dict[str, bool | None]:
    """Which of issue 3's targets the totals meet (None: not measurable here)."""
    out: dict[str, bool | None] = {}
    for key in ("exact_pct", "within1_pct", "structure_pct", "family_pct"):
        v = total.get(key)
        out[key] = None if v is None else v >= TARGETS[key]
    for key in ("concentric_med_s", "eccentric_med_s"):
        v = total.get(key)
        out[key] = None if v is None else v <= TARGETS["tempo_median_s"]
    return out


def find_recordings(dirs: Sequence[str]) -> list[tuple[str, Path]]:
    out = []
    for d in dirs:
        p = Path(d)
        files = [p] if p.is_file() else sorted(p.rglob("*.csv"))
        out.extend((str(d), f) for f in files if not f.name.startswith("."))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Score repsense's rep counts, sets, exercise recognition and tempo "
        "against labelled recordings, next to a plain peak-picking baseline."
    )
    parser.add_argument("dirs", nargs="+", metavar="DIR", help="directories of recordings")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.add_argument("--exercise", default="auto",
                        help="exercise given to analyze: auto (default, recognition is scored), "
                        "an id, or 'label' (the labelled one when a file holds one exercise; "
                        "separates counting and tempo from recognition)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the baseline")
    parser.add_argument("--details", action="store_true", help="also list every set")
    args = parser.parse_args(argv)

    from repsense.analysis import analyze_recording

    groups: dict[str, list[dict[str, Any]]] = {}
    for group, path in find_recordings(args.dirs):
        row = evaluate_file(path, analyze_recording, args.exercise, not args.no_baseline)
        groups.setdefault(group, []).append(row)
        if not args.json:
            print(f"  {path.name}: {row['found_counts']}"
                  + (f"  ERROR {row['error']}" if row.get("error") else ""), file=sys.stderr)

    all_rows = [r for rows in groups.values() for r in rows]
    totals = [{"group": g, **summarise(rows)} for g, rows in groups.items()]
    if len(groups) > 1:
        totals.append({"group": "ALL", **summarise(all_rows)})
    result = {
        "benchmark": "accuracy",
        "command": command_line(),
        "machine": machine_info(),
        "totals": totals,
        "targets": TARGETS,
        "targets_met": {t["group"]: targets_met(t) for t in totals},
        "per_exercise": per_exercise(all_rows),
        "files": all_rows,
    }
    text = [table(file_table_rows(all_rows), FILE_COLS, "Per file (errors in s: median)"), ""]
    text.append(table(per_exercise(all_rows), EX_COLS, "Per labelled exercise"))
    text.append("")
    text.append(table(totals, TOTAL_COLS, "Totals (labelled sets only; % and median s)"))
    if args.details:
        det = [{"file": r["file"], **{k: v for k, v in s.items() if k != "errors"}}
               for r in all_rows if r.get("labelled") for s in r["sets"]]
        text += ["", table(det, list(det[0].keys()) if det else ["file"], "Every labelled set")]
    errs = [r for r in all_rows if r.get("error")]
    if errs:
        text += ["", "Errors:"] + [f"  {r['file']}: {r['error']}" for r in errs]
    emit(result, args.json, "\n".join(text))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
