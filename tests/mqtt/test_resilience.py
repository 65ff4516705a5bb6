"""Nothing lost: broker outages, broker crashes, repsense crashes, a full outbox."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys

from repsense.testing.broker import MessageCollector, MosquittoBroker, free_port

from .helpers import cli_env, events_by_id, run_cli


def rep_ids(msgs):
    return {i for i, d in events_by_id(msgs).items() if d["type"] == "rep"}


def test_broker_killed_and_restarted_mid_session(tmp_path, make_sink, pipeline_events,
                                                 validate):
    broker = MosquittoBroker(tmp_path / "b", persistence=True).start()
    try:
        # A dashboard with a persistent session: the broker queues for it while it is away.
        sub = MessageCollector(broker.url, ["repsense/#"], client_id="dashboard",
                               persistent=True).start()
        sink = make_sink(broker.url)
        reps = [i for i, e in enumerate(pipeline_events) if e.type == "rep"]
        a, b = reps[1] + 1, reps[-2] + 1  # each part holds reps
        first, second, third = pipeline_events[:a], pipeline_events[a:b], pipeline_events[b:]
        for ev in first:
            sink.handle(ev)
        assert sink.wait_idle(5.0)
        sub.wait_for(lambda m: len(events_by_id(m)) >= sum(e.type != "rest" for e in first))

        broker.stop(kill=True)  # crash, not a clean shutdown
        for ev in second:
            sink.handle(ev)  # must not block or raise while the broker is gone
        assert sink.pending >= sum(e.type != "rest" for e in second) > 0

        broker.start()
        for ev in third:
            sink.handle(ev)
        report = sink.close(10.0)
        assert report.pending == 0
        n_reps = sum(e.type == "rep" for e in pipeline_events)
        msgs = sub.wait_for(lambda m: len(rep_ids(m)) == n_reps, timeout_s=15)
        seqs = {d["seq"] for d in events_by_id(msgs).values() if d["type"] == "rep"}
        assert seqs == {e.seq for e in pipeline_events if e.type == "rep"}
        assert sink.stats.connects >= 2
        validate(msgs)
        sub.stop()
    finally:
        broker.stop(kill=True)


def test_no_broker_at_start_then_it_appears(tmp_path, make_sink, pipeline_events):
    port = free_port()
    said: list[str] = []
    sink = make_sink(f"mqtt://127.0.0.1:{port}", status=said.append)
    assert len(said) == 1 and "no broker answers" in said[0] and "outbox" in said[0]
    for ev in pipeline_events:
        sink.handle(ev)
    stored = sink.pending
    assert stored == sum(e.type != "rest" for e in pipeline_events) + 1
    broker = MosquittoBroker(tmp_path / "late", port=port)
    with broker:
        # No new events: the stored ones go out on their own once the broker is there.
        assert sink.wait_idle(15.0)
        report = sink.close(5.0)
        assert report.pending == 0 and report.delivered >= stored


def test_full_outbox_says_so_and_keeps_the_oldest(tmp_path, make_sink, pipeline_events):
    said: list[str] = []
    sink = make_sink(f"mqtt://127.0.0.1:{free_port()}", status=said.append, outbox_max=5)
    for ev in pipeline_events:
        sink.handle(ev)
    assert sink.pending == 5
    full = [s for s in said if "is full (" in s]
    assert len(full) == 1 and "NOT stored" in full[0]
    assert sink.stats.dropped_full == sum(e.type != "rest" for e in pipeline_events) + 1 - 5
    report = sink.close(0.2)
    assert report.pending == 5 and report.dropped == sink.stats.dropped_full
    rows = sqlite3.connect(report.outbox).execute("SELECT payload FROM outbox ORDER BY seq")
    first = json.loads(next(iter(rows))[0])
    assert first["type"] == "session_start"  # the oldest are kept


def test_repsense_killed_mid_session_then_restarted(tmp_path, mosquitto_factory, recording,
                                                    validate):
    """SIGKILL a running `repsense replay` while the broker is away; the next run delivers."""
    port = free_port()
    outbox = tmp_path / "outbox.sqlite"
    env = cli_env(tmp_path)
    url = f"mqtt://127.0.0.1:{port}"
    args = [sys.executable, "-m", "repsense", "replay", str(recording), "--speed", "20",
            "--json", "--mqtt", url, "--sensor-id", "rdl", "--gateway-id", "gwk",
            "--mqtt-outbox", str(outbox)]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)
    printed = []
    try:
        for line in proc.stdout:
            ev = json.loads(line)
            printed.append(ev)
            if sum(e["type"] == "rep" for e in printed) >= 3:
                break
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    err = proc.stderr.read()
    assert "no broker answers" in err and "Traceback" not in err
    stored = sqlite3.connect(outbox).execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
    assert stored >= 4  # session start + set start + 3 reps at least (some may be mid-write)

    broker = mosquitto_factory(port=port)
    sub = MessageCollector(broker.url, ["repsense/#"]).start()
    again = run_cli(["replay", str(recording), "--speed", "0", "--mqtt", url,
                     "--sensor-id", "rdl", "--gateway-id", "gwk", "--mqtt-outbox", str(outbox)],
                    env)
    assert again.returncode == 0, again.stderr
    assert "earlier run" in again.stderr and "not acknowledged" not in again.stderr
    sessions: dict[str, set[int]] = {}
    msgs = sub.wait_for(lambda m: len({d["session_id"] for d in events_by_id(m).values()}) == 2
                        and any(d["type"] == "session_end" for d in events_by_id(m).values()))
    for d in events_by_id(msgs).values():
        sessions.setdefault(d["session_id"], set()).add(d["seq"])
    ended = {d["session_id"] for d in events_by_id(msgs).values() if d["type"] == "session_end"}
    assert len(ended) == 1 and all(0 in seqs for seqs in sessions.values())  # both started
    killed = next(s for s in sessions if s not in ended)
    printed_reps = {e["seq"] for e in printed if e["type"] == "rep"}
    got_reps = {d["seq"] for d in events_by_id(msgs).values()
                if d["session_id"] == killed and d["type"] == "rep"}
    assert printed_reps <= got_reps | {max(printed_reps)}  # the last may have died unwritten
    assert len(got_reps) >= 2
    assert sqlite3.connect(outbox).execute("SELECT COUNT(*) FROM outbox").fetchone()[0] == 0
    validate(msgs)
    sub.stop()


def test_a_test_broker_on_a_port_someone_else_holds_fails_to_start(tmp_path, mosquitto):
    # Two test suites on one machine can be handed the same free port. The second broker
    # then exits ("Address already in use") while the port still answers, and its tests
    # would talk to the other suite's broker; starting must fail instead.
    other = MosquittoBroker(tmp_path / "other", port=mosquitto.port)
    try:
        other.start(timeout_s=5.0)
    except RuntimeError as exc:
        assert "Address already in use" in str(exc)
    else:
        raise AssertionError("a broker that could not listen reported that it was running")
    finally:
        other.stop()
