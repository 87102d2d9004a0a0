"""PNG figures: written whole, identical bytes for the same data, no version or date inside."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from mathtune.core.figures import write_accuracy_png, write_curve_png, write_family_png

LOSS_CSV = "step,train_loss,eval_loss\n1,2.5,\n2,2.0,2.2\n3,1.5,\n4,1.2,1.6\n"
REWARD_CSV = "step,accuracy_reward,format_reward\n1,0.1,0.5\n2,0.2,0.75\n3,0.25,0.9\n"
ACCURACY = {
    "base": {"overall": 0.05, "seen": 0.06, "heldout": 0.02},
    "sft": {"overall": 0.3, "seen": 0.4, "heldout": 0.1},
    "grpo": {"overall": 0.35, "seen": 0.42, "heldout": 0.2},
}
ERRORS = {
    "base": {"overall": 0.02, "seen": 0.03, "heldout": 0.02},
    "sft": {"overall": 0.05, "seen": 0.07, "heldout": 0.04},
    "grpo": {"overall": 0.05, "seen": 0.07, "heldout": 0.06},
}
FAMILIES = {
    "base": {"sum": 0.1, "pizza": 0.0, "rectangle (heldout)": 0.0},
    "sft": {"sum": 0.9, "pizza": 0.5, "rectangle (heldout)": 0.1},
}


def draw(kind: str, directory: Path) -> Path:
    """One figure of `kind` written under `directory`; returns the PNG path."""
    png = directory / "plots" / f"{kind}.png"
    directory.mkdir(parents=True, exist_ok=True)
    if kind in ("loss", "reward"):
        csv_file = directory / f"{kind}.csv"
        csv_file.write_text(LOSS_CSV if kind == "loss" else REWARD_CSV)
        write_curve_png(csv_file, png, title=kind, y_label=kind)
    elif kind == "accuracy":
        write_accuracy_png(png, ACCURACY, ERRORS)
    else:
        write_family_png(png, FAMILIES)
    return png


@pytest.mark.parametrize("kind", ["loss", "reward", "accuracy", "families"])
def test_figure_is_a_png_with_the_same_bytes_each_time(kind, tmp_path):
    first = draw(kind, tmp_path / "first").read_bytes()
    second = draw(kind, tmp_path / "second").read_bytes()
    assert first.startswith(b"\x89PNG\r\n\x1a\n")
    assert first == second
    # Neither matplotlib's version nor a date: upgrading matplotlib keeps the DVC hash.
    assert b"Software" not in first and b"matplotlib" not in first.lower()
    with Image.open(tmp_path / "first" / "plots" / f"{kind}.png") as image:
        assert image.width >= 400 and image.height >= 200


def test_curve_png_changes_with_the_data(tmp_path):
    before = draw("reward", tmp_path).read_bytes()
    csv_file = tmp_path / "reward.csv"
    csv_file.write_text(REWARD_CSV.replace("0.9", "0.1"))
    write_curve_png(csv_file, tmp_path / "after.png", title="reward", y_label="reward")
    assert (tmp_path / "after.png").read_bytes() != before


def test_accuracy_png_draws_the_standard_errors(tmp_path):
    with_errors = draw("accuracy", tmp_path).read_bytes()
    no_errors = {model: dict.fromkeys(groups, 0.0) for model, groups in ERRORS.items()}
    write_accuracy_png(tmp_path / "none.png", ACCURACY, no_errors)
    assert (tmp_path / "none.png").read_bytes() != with_errors


def test_no_temporary_file_is_left_behind(tmp_path):
    draw("accuracy", tmp_path)
    assert [path.name for path in (tmp_path / "plots").iterdir()] == ["accuracy.png"]
