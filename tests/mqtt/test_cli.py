"""`repsense replay --mqtt`: the whole tree, many gateways on one broker, no broker, old brokers."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading

import paho.mqtt.client as mqtt
import pytest

from repsense.testing.broker import BrokerAuth, MessageCollector, free_port

from .helpers import cli_env, events_by_id, run_cli, run_main


@pytest.fixture
def auth_broker_url(mosquitto_factory):
    """(URL without credentials, the gym password, a URL for a watcher) of a broker with users."""
    broker = mosquitto_factory(auth=BrokerAuth({"gym": "pw-in-file", "watcher": "w"}))
    return broker.url, "pw-in-file", broker.url_for("watcher", "w")


def test_replay_publishes_the_topic_tree(mosquitto, mqtt_collector, recording, tmp_path,
                                         validate):
    sub = mqtt_collector(topics=["repsense/#", "homeassistant/#"])
    res = run_cli(["replay", str(recording), "--speed", "0", "--mqtt", mosquitto.url,
                   "--sensor-id", "bench-1", "--gateway-id", "rack"], cli_env(tmp_path))
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    msgs = sub.wait_for(lambda m: any(x.topic == "repsense/gateway/rack/state"
                                      and x.json()["state"] == "offline" for x in m))
    topics = {m.topic for m in msgs}
    assert {
        "repsense/gateway/rack/state", "repsense/gateway/rack/info",
        "repsense/bench-1/availability", "repsense/bench-1/state",
        "repsense/bench-1/events/rep", "repsense/bench-1/events/set",
        "repsense/bench-1/events/session", "homeassistant/device/repsense_bench-1/config",
    } <= topics
    assert validate(msgs) == len(msgs)
    avail = [m.json()["link"] for m in msgs if m.topic.endswith("/availability")]
    assert "replaying" in avail and avail[-1] == "disconnected"
    # The printed session and the published one agree rep for rep.
    printed = sum(" rep " in line for line in res.stdout.splitlines())
    reps = [d for d in events_by_id(msgs).values() if d["type"] == "rep"]
    assert len(reps) == printed > 0
    assert all(d["sensor_id"] == "bench-1" and d["gateway_id"] == "rack" for d in reps)


def test_broker_url_from_the_environment(mosquitto, mqtt_collector, recording, monkeypatch,
                                         capsys):
    sub = mqtt_collector(topics=["repsense/+/events/session"])
    monkeypatch.setenv("REPSENSE_MQTT_URL", mosquitto.url)
    rc, _out, err = run_main(["replay", str(recording), "--speed", "0", "--sensor-id", "envy"],
                             capsys)
    assert rc == 0, err
    sub.wait_json("repsense/envy/events/session", lambda d: d["type"] == "session_end")


def test_two_gateways_one_broker_no_collisions(mosquitto, mqtt_collector, recording, tmp_path,
                                               validate, capsys):
    sub = mqtt_collector(topics=["repsense/#"])
    common = ["replay", str(recording), "--speed", "0", "--mqtt", mosquitto.url]
    procs = [
        subprocess.Popen([sys.executable, "-m", "repsense", *common, "--gateway-id", gw,
                          "--sensor-id", sensor], env=cli_env(tmp_path / gw),
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for gw, sensor in (("room-a", "left_thigh"), ("room-b", "right_shank"))
    ]
    for p in procs:
        _, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
    # The same sensor later moves to room-b: same sensor id, a new session id.
    rc, _out, err = run_main([*common, "--gateway-id", "room-b", "--sensor-id", "left_thigh"],
                             capsys)
    assert rc == 0, err

    def done(m):
        ends = [d for d in events_by_id(m).values() if d["type"] == "session_end"]
        return len(ends) == 3

    msgs = sub.wait_for(done)
    validate(msgs)
    events = events_by_id(msgs)
    sessions = {(d["gateway_id"], d["sensor_id"], d["session_id"]) for d in events.values()}
    assert len(sessions) == 3 and len({s[2] for s in sessions}) == 3
    # Each event id belongs to exactly one gateway/sensor; none was overwritten.
    n_events = sum(1 for m in msgs if "/events/" in m.topic)
    assert len(events) == n_events
    for doc in events.values():
        assert doc["id"].startswith(doc["session_id"] + "-")
        assert doc["sensor_id"] in ("left_thigh", "right_shank")
    # Retained topics are per gateway / per sensor.
    infos = {m.topic: m.json() for m in msgs if m.topic.endswith("/info")}
    assert infos["repsense/gateway/room-a/info"]["sensors"] == ["left_thigh"]
    assert "repsense/gateway/room-b/info" in infos
    states = {m.topic for m in msgs if m.topic.endswith("/state")}
    assert states == {"repsense/gateway/room-a/state", "repsense/gateway/room-b/state",
                      "repsense/left_thigh/state", "repsense/right_shank/state"}


def test_no_broker_is_one_line_and_the_replay_goes_on(recording, monkeypatch, capsys):
    monkeypatch.setenv("REPSENSE_MQTT_URL", f"mqtt://127.0.0.1:{free_port()}")
    rc, out, err = run_main(["replay", str(recording), "--speed", "0", "--sensor-id", "nob"],
                            capsys)
    assert rc == 0
    lines = err.strip().splitlines()
    assert len(lines) == 2, lines
    assert "no broker answers" in lines[0] and "--no-mqtt" in lines[0]
    assert "not acknowledged" in lines[1] and "kept in" in lines[1]
    assert "session over" in out


def test_no_mqtt_means_no_mqtt(recording, tmp_path, capsys):
    rc, _out, err = run_main(["replay", str(recording), "--speed", "0", "--no-mqtt"], capsys)
    assert rc == 0 and err == ""
    assert not (tmp_path / "data" / "mqtt-outbox").exists()


@pytest.mark.parametrize(("args", "needle"), [
    (["--mqtt", "http://x"], "mqtt://"),
    (["--mqtt", "mqtt://u:hunter2@h:99999"], "--mqtt"),
    (["--mqtt", "mqtt://h", "--mqtt-ca", "ca.pem"], "mqtts"),
    (["--mqtt", "mqtt://h", "--sensor-id", "###"], "sensor id"),
    (["--mqtt", "mqtt://h", "--mqtt-outbox-max", "0"], "outbox-max"),
])
def test_bad_mqtt_options_exit_2_with_one_line(recording, capsys, args, needle):
    rc, out, err = run_main(["replay", str(recording), "--speed", "0", *args], capsys)
    assert rc == 2
    assert len(err.strip().splitlines()) == 1 and needle in err
    assert "hunter2" not in err and out == ""


class OldBrokerProxy:
    """Forwards to Mosquitto but, like an MQTT 3.1.1-only broker, refuses MQTT 5 CONNECTs."""

    def __init__(self, target_port: int, hang_up: bool = False) -> None:
        self.target = target_port
        self.hang_up = hang_up  # close without a CONNACK instead of refusing politely
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.levels: list[int] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        head = b""
        while len(head) < 9:
            chunk = conn.recv(9 - len(head))
            if not chunk:
                conn.close()
                return
            head += chunk
        # fixed header (1) + remaining length (1 byte for a small CONNECT) + "\0\4MQTT" + level
        level = head[8]
        self.levels.append(level)
        if level == 5:
            if not self.hang_up:
                conn.sendall(b"\x20\x02\x00\x01")  # CONNACK: unacceptable protocol version
            conn.close()
            return
        up = socket.create_connection(("127.0.0.1", self.target))
        up.sendall(head)
        for a, b in ((conn, up), (up, conn)):
            threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.sock.close()


@pytest.mark.parametrize("hang_up", [False, True], ids=["connack-refusal", "hang-up"])
def test_mqtt5_falls_back_to_311_for_an_old_broker(mosquitto, make_sink, pipeline_events,
                                                   validate, hang_up):
    proxy = OldBrokerProxy(mosquitto.port, hang_up=hang_up)
    said: list[str] = []
    try:
        sub = MessageCollector(mosquitto.url, ["repsense/#"], protocol=mqtt.MQTTv311).start()
        sink = make_sink(f"mqtt://127.0.0.1:{proxy.port}", status=said.append)
        for ev in pipeline_events:
            sink.handle(ev)
        assert sink.close(10.0).pending == 0
        assert proxy.levels[0] == 5 and 4 in proxy.levels  # tried 5, then 3.1.1
        assert any("3.1.1" in s for s in said)
        msgs = sub.wait_for(lambda m: any(d["type"] == "session_end"
                                          for d in events_by_id(m).values()))
        validate(msgs)
        infos = [m.json() for m in msgs if m.topic.endswith("/info")]
        assert infos[-1]["mqtt_protocol"] == "3.1.1"
        sub.stop()
    finally:
        proxy.close()


def test_broker_settings_from_the_config_file(auth_broker_url, mqtt_collector, recording,
                                              tmp_path, capsys):
    url, password, watcher = auth_broker_url
    (tmp_path / "config").mkdir(exist_ok=True)
    (tmp_path / "config" / "config.toml").write_text(
        f'[mqtt]\nurl = "{url}"\nusername = "gym"\npassword = "{password}"\n'
        'base_topic = "gym/floor1"\ngateway_id = "from-config"\n')
    sub = mqtt_collector(watcher, topics=["gym/floor1/#"])
    rc, _out, err = run_main(["replay", str(recording), "--speed", "0", "--sensor-id", "cfg"],
                             capsys)
    assert rc == 0, err
    assert password not in err
    sub.wait_json("gym/floor1/cfg/events/session", lambda d: d["type"] == "session_end"
                  and d["gateway_id"] == "from-config")


def test_a_damaged_outbox_is_one_line(recording, tmp_path, capsys):
    bad = tmp_path / "junk.sqlite"
    bad.write_bytes(b"this is not a database" * 100)
    rc, _out, err = run_main(["replay", str(recording), "--speed", "0", "--mqtt",
                              f"mqtt://127.0.0.1:{free_port()}", "--mqtt-outbox", str(bad)],
                             capsys)
    assert rc == 2 and len(err.strip().splitlines()) == 1 and "outbox" in err
