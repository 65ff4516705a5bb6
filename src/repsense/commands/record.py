"""``repsense record``: stream a sensor to a canonical CSV (+ sidecar) and a raw capture."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from pathlib import Path

import numpy as np

from repsense.ble.backend import add_backend_arguments
from repsense.ble.cli_support import run_ble
from repsense.errors import InputError
from repsense.samples import SampleChunk


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "record",
        help="record a sensor to NAME.csv (+ NAME.json sidecar) and NAME.jsonl (raw capture)",
        description="Stream SENSOR (profile name from 'repsense pair', address or advertised "
        "name) and write the canonical recording NAME.csv with its sidecar NAME.json, plus the "
        "raw BLE capture NAME.jsonl (every notification, decodable by 'repsense analyze' and "
        "'repsense replay'). Stops after --duration or on Ctrl-C; files appear only when "
        "complete. Link losses are reconnected and reported; lost samples are never invented.",
    )
    p.add_argument("sensor", metavar="SENSOR", help="profile name, address or advertised name")
    p.add_argument("-o", "--output", required=True, metavar="NAME",
                   help="output name (NAME.csv, NAME.json, NAME.jsonl; a .csv suffix is dropped)")
    p.add_argument("--duration", type=float, default=None, metavar="S",
                   help="seconds to record (default: until Ctrl-C, or the end of a virtual "
                   "sensor's source)")
    p.add_argument("--rate", type=float, default=None, metavar="HZ",
                   help="sample rate (default: the profile's or the sensor's default)")
    p.add_argument("--protocol", default=None,
                   help="protocol for a bare address that is not advertising its type")
    p.add_argument("--force", action="store_true", help="overwrite existing output files")
    p.add_argument("--timeout", type=float, default=10.0, metavar="S",
                   help="seconds to find and connect to the sensor (default 10)")
    add_backend_arguments(p)
    p.set_defaults(func=run)


def _outputs(name: str) -> tuple[Path, Path, Path]:
    base = Path(name)
    if base.suffix.lower() in (".csv", ".jsonl", ".json"):
        base = base.with_suffix("")
    return base.with_suffix(".csv"), base.with_suffix(".json"), base.with_suffix(".jsonl")


def run(args: argparse.Namespace) -> int:
    if args.duration is not None and not 0.5 <= args.duration <= 24 * 3600:
        raise InputError(f"--duration {args.duration}: record for 0.5 s to 24 h")
    if args.rate is not None and not 5 <= args.rate <= 1000:
        raise InputError(f"--rate {args.rate}: choose 5-1000 Hz")
    csv_path, json_path, raw_path = _outputs(args.output)
    if not csv_path.parent.is_dir():
        raise InputError(f"{csv_path.parent}: no such directory; create it or change -o")
    if not args.force:
        for p in (csv_path, json_path, raw_path):
            if p.exists():
                raise InputError(f"{p}: already exists; choose another -o NAME or add --force")

    async def body(backend, sensors):
        return await record(args, backend, sensors, csv_path, raw_path)

    summary = run_ble(args, body)
    print(summary)
    return 0


async def record(args, backend, sensors, csv_path: Path, raw_path: Path) -> str:
    """Stream into the writers; publish the files only when the recording is complete."""
    from repsense.ble.stream import LinkEvent, Problem, Samples, SensorStream
    from repsense.io.csv_writer import RecordingWriter
    from repsense.io.raw_capture import RawCaptureWriter

    stream = SensorStream(args.sensor, backend=backend, rate_hz=args.rate,
                          protocol=args.protocol, connect_timeout_s=args.timeout)
    await stream.start()
    target, driver = stream.target, stream.driver
    # Written beside the target and renamed when complete, like the CSV.
    raw_tmp = raw_path.with_name(f".{raw_path.name}.partial")
    raw = RawCaptureWriter(
        raw_tmp,
        protocol=driver.protocol,
        device={"name": target.name, "address": target.address},
        config=driver.config(),
        extra={"placement": target.profile.placement, "side": target.profile.side}
        if target.profile else None,
        overwrite=True,
    )

    def drop_raw() -> None:
        raw.close()
        raw_tmp.unlink(missing_ok=True)

    stream.on_notification = raw.write
    writer = RecordingWriter(csv_path, has_gyro=driver.has_gyro)
    t0: float | None = None
    gaps = 0
    interrupted = False
    finished = [s.finished for s in sensors if not getattr(s, "loop_source", False)]
    clock = stream.clock
    end: float | None = None  # stream-clock time to stop; set at the first sample

    async def stopper() -> None:
        # Stop at --duration (stream clock) or when every virtual source has ended.
        while True:
            await asyncio.sleep(0.02)
            if end is not None and clock() >= end:
                break
            if args.duration is None and finished and all(f.is_set() for f in finished):
                await asyncio.sleep(0.1)
                break
        await stream.close()

    task = asyncio.create_task(stopper())
    try:
        async for item in stream:
            if isinstance(item, Samples):
                chunk = item.chunk
                if t0 is None:
                    t0 = float(chunk.t[0])
                    if args.duration is not None:
                        end = clock() + args.duration
                rel = chunk.t - t0
                if args.duration is not None:
                    keep = int(np.searchsorted(rel, args.duration, side="left"))
                    if keep == 0:
                        continue
                    chunk, rel = chunk.slice(0, keep), rel[:keep]
                writer.write(SampleChunk(rel, chunk.acc, chunk.gyr))
            elif isinstance(item, Problem):
                print(f"warning ({item.problem.kind}): {item.problem.message}", file=sys.stderr)
            elif isinstance(item, LinkEvent) and item.state in ("disconnected", "reconnecting"):
                gaps += item.state == "disconnected"
                print(f"link {item.state}" + (f" (attempt {item.attempt})" if item.attempt else ""),
                      file=sys.stderr)
    except (KeyboardInterrupt, asyncio.CancelledError):
        interrupted = True
    except BaseException:
        writer.abort()
        drop_raw()
        raise
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        await stream.close()
    if writer.samples == 0:
        writer.abort()
        drop_raw()
        raise InputError(f"no samples arrived from {target.address}; nothing was written")
    profile = target.profile
    meta = {
        "sensor": profile.name if profile else (target.name or target.address),
        "placement": profile.placement if profile else None,
        "side": profile.side if profile else None,
        "sample_rate_hz": float(driver.rate_hz),
        "synthetic": bool(backend.is_virtual),
        "source": f"repsense record ({driver.protocol} {target.address}"
        + (", virtual sensor" if backend.is_virtual else "") + ")",
        "licence": "recorded by the user",
        "labels": {"sets": []},
    }
    writer.close(meta)
    raw.close()
    os.replace(raw_tmp, raw_path)
    st = stream.stats
    duration = writer.samples / float(driver.rate_hz)
    note = " (stopped by Ctrl-C)" if interrupted else ""
    return (
        f"recorded {writer.samples} samples (~{duration:.1f} s) to {csv_path} "
        f"(+ {csv_path.with_suffix('.json').name}, raw capture {raw_path.name}); "
        f"{st.lost_samples} lost, {st.malformed} malformed, {st.reconnects} reconnects{note}"
    )
