"""``ccomp run`` on an actor program (compiled handlers): JSON Lines in, replies out,
telemetry, and located errors (file:line:col, no traceback, exit 1) for bad lines."""

import json
from pathlib import Path

import pytest

from ccomp.driver.cli import main

STATS = str(Path(__file__).resolve().parents[3] / "examples" / "stats.cn")


def test_send_replies_and_telemetry(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text('{"data": [1.0, 2.0, 3.0]}\n\n{"data": [4.0], "@priority": 200, "@correlation_id": 9}\n'
                   '{"data": [-1.0, 1.0], "@to": "summarise"}\n')
    out = tmp_path / "out.jsonl"
    assert main(["run", STATS, "--send", f"Samples={src}", "--replies", str(out), "--telemetry"]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    by_key = {r["@correlation_id"]: r for r in rows}
    assert len(rows) == 3 and by_key[9]["@priority"] == 200 and by_key[9]["total"] == 4.0
    assert {r["total"] for r in rows} == {6.0, 4.0, 0.0}
    assert rows[0]["@correlation_id"] == 9  # the high band was served first
    telemetry = json.loads(capsys.readouterr().out)
    assert telemetry["summarise"]["processed"] == 3 and telemetry["summarise"]["state"] == "TERMINATED"


def test_an_actor_file_runs_as_actors_without_flags(capsys):
    assert main(["run", STATS]) == 0  # nothing to send: launched, drained, terminated
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("text, where, words", [
    ('{"data": [1.0]}\n{"data": [1.0, "x"]}\n', ":2:1:", "Samples.data: expected tensor<?xf32>, got text"),
    ('{"data": [1.0,\n', ":1:15:", "not valid JSON: Expecting value"),
    ('[1.0, 2.0]\n', ":1:1:", "a message is a JSON object of its fields, got list"),
    ('{"dat": [1.0]}\n', ":1:1:", "message Samples has no field 'dat' (its fields: data)"),
    ('{"data": [1.0], "@priority": 300}\n', ":1:1:", "priority must be an integer from 0 to 255, got 300"),
    ('{"data": [1.0], "@to": "nobody"}\n', ":1:1:", "no actor or pipeline named 'nobody'"),
])
def test_bad_lines_are_located_errors(tmp_path, capsys, text, where, words):
    src = tmp_path / "bad.jsonl"
    src.write_text(text)
    assert main(["run", STATS, "--send", f"Samples={src}"]) == 1
    err = capsys.readouterr().err
    assert f"bad.jsonl{where} error: {words}" in err and "Traceback" not in err


def test_bad_flags_are_clear_errors(tmp_path, capsys):
    assert main(["run", STATS, "--send", "Nope=x.jsonl"]) == 1
    assert "no message type 'Nope' (the program declares: Samples, Summary)" in capsys.readouterr().err
    assert main(["run", STATS, "--send", f"Samples={tmp_path / 'missing.jsonl'}"]) == 1
    assert "no such file" in capsys.readouterr().err
