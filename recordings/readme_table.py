"""Print the file table of recordings/README.md from the sidecars and make_corpus.sh.

Run from the repository root: ``.venv/bin/python recordings/readme_table.py``.
"""

import json
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHOWN_VARIANTS = {"prone", "seated", "standing", "stance", "free", "knee_extension", "leg_raise",
                  "prone_hip_extension", "squat", "reverse_hyperextension"}


def main() -> None:
    script = (HERE / "make_corpus.sh").read_text()
    commands = {}
    for line in script.splitlines():
        if line.startswith("sim "):
            out = re.search(r"-o \$o/(\S+)", line).group(1)
            commands[out] = "repsense simulate " + line[4:].replace("$o/", "recordings/")
    print("| file | exercise | sensor on | Hz | reps per set | tempo | s | extras | kB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for path in sorted(HERE.glob("*.csv")):
        meta = json.loads(path.with_suffix(".json").read_text())
        sets = meta["labels"]["sets"]
        names: list[str] = []
        for s in sets:
            v = s.get("variant")
            name = s["exercise"] + (f" ({v})" if v in SHOWN_VARIANTS else "")
            if name not in names:
                names.append(name)
        sim = meta["simulator"]
        extra = ["accelerometer only"] if sim["accel_only"] else []
        extra.append(f"nuisance {sim['nuisance']}")
        if sim["partial_prob"]:
            extra.append(f"partial reps p={sim['partial_prob']:g}, fatigue {sim['fatigue']:g}")
        if sim["jitter_ms"]:
            extra.append(f"timestamp jitter {sim['jitter_ms']:g} ms")
        if sim["warnings"]:
            extra.append("the placement barely sees the reps")
        places = "/".join(sorted({s["placement"] for s in sets}))
        tempos = ", ".join(sorted({s["tempo"] for s in sets}))
        reps = "+".join(str(s["reps"]) for s in sets)
        print(f"| `{path.name}` | {', '.join(names)} | {places} | {meta['sample_rate_hz']:g} | "
              f"{reps} | {tempos} | {sim['duration_s']:.0f} | {'; '.join(extra)} | "
              f"{path.stat().st_size // 1024} |")
    print()
    for name in sorted(commands):
        print(f"- `{name}`:\n  `{commands[name]}`")


if __name__ == "__main__":
    main()
