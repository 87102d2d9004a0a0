"""One base error: a stage prints its message on one line and exits 2; bugs keep tracebacks."""

from __future__ import annotations

import pytest

from mathtune.core.errors import EXIT_STATUS, MathtuneError, exit_on_error
from mathtune.core.params import ParamsError
from mathtune.data.sources import SourceError
from mathtune.models.loading import ModelLoadError


@pytest.mark.parametrize("error", [MathtuneError, ParamsError, SourceError, ModelLoadError])
def test_a_mathtune_error_prints_one_line_and_exits_2(error, capsys):
    with pytest.raises(SystemExit) as caught, exit_on_error("train"):
        raise error("train.lr = -1 is not allowed: must be > 0.")
    assert caught.value.code == EXIT_STATUS == 2
    assert capsys.readouterr().err == "train failed: train.lr = -1 is not allowed: must be > 0.\n"


def test_any_other_exception_keeps_its_traceback():
    with pytest.raises(KeyError), exit_on_error("train"):
        raise KeyError("a bug")
