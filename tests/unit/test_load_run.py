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
    ],
)
def test_given_arguments_that_cannot_run_when_started_then_it_exits_2_naming_the_flag(arguments, named, capsys):
    with pytest.raises(SystemExit) as exit_info:
        _load_run().main(arguments)
    assert exit_info.value.code == 2
    assert named in capsys.readouterr().err
