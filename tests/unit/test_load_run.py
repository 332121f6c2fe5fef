"""The load run refuses, before touching the cloud, arguments that would make it unbounded or half-run."""

import importlib.util

import pytest

from tests.conftest import ROOT


def _load_run():
    spec = importlib.util.spec_from_file_location("load_run", ROOT / "bench" / "load_run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        (["--spawn-rate", "0"], "--spawn-rate"),
        (["--users", "20", "--spawn-rate", "1", "--seconds", "10"], "--spawn-rate"),  # the last arrives at 19 s
        (["--max-requests", "0"], "--max-requests"),
        (["--users", "1"], "--users"),
        (["--seconds", "0"], "--seconds"),
    ],
)
def test_given_arguments_that_cannot_run_when_started_then_it_exits_2_naming_the_flag(arguments, named, capsys):
    with pytest.raises(SystemExit) as exit_info:
        _load_run().main(arguments)
    assert exit_info.value.code == 2
    (message,) = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert named in message
    assert all(flag not in message for flag in ("--users", "--seconds", "--max-requests") if flag != named)


def test_given_a_user_that_crashed_when_recorded_then_it_is_an_error_but_not_a_request():
    recorder = _load_run().Recorder()
    recorder.record_crash(RuntimeError("boom"))
    assert recorder.requests == 0
    assert recorder.errors == ["crashed: RuntimeError: boom"]
