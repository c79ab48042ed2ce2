"""seqrnn.plots: each function writes a valid PNG whose pixels show the data
where it belongs (read back with matplotlib.image and located through the
axes' extent), returns the figure, leaves pyplot's global state alone, checks
its arguments, and raises an ImportError that says `pip install matplotlib`
when matplotlib is missing (simulated through sys.modules)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import seqrnn
from seqrnn import plots

matplotlib = pytest.importorskip("matplotlib")
image_io = pytest.importorskip("matplotlib.image")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def read_png(path):
    assert path.read_bytes()[:8] == PNG_MAGIC
    return image_io.imread(str(path))[:, :, :3]  # RGB floats in [0, 1]


def axes_box(fig, ax, image):
    """(left, top, right, bottom) pixel rows/columns of ax in the PNG."""
    box = ax.get_window_extent()
    height = image.shape[0]
    return box.x0, height - box.y1, box.x1, height - box.y0


# The ends of RdBu_r: dark red (0.40, 0.00, 0.12) and dark blue (0.02, 0.19, 0.38).
def is_red(pixel):
    return pixel[0] > 0.3 and pixel[1] < 0.1 and pixel[2] < 0.2


def is_blue(pixel):
    return pixel[2] > 0.3 and pixel[0] < 0.1 and pixel[1] < 0.25


def test_heatmap_puts_a_hot_cell_where_it_is(tmp_path):
    T, U = 20, 5
    values = np.zeros((T, U))
    values[7, 2] = 1.0  # hot: dark red
    values[15, 4] = -1.0  # cold: dark blue
    path = tmp_path / "heat.png"
    fig = plots.heatmap(values, path, title="t", steps=list("abcdefghijklmnopqrs\n"))
    assert fig.axes
    image = read_png(path)
    assert image.shape[0] == round(fig.get_figheight() * fig.dpi)
    left, top, right, bottom = axes_box(fig, fig.axes[0], image)
    red = np.argwhere([[is_red(p) for p in row] for row in image])
    blue = np.argwhere([[is_blue(p) for p in row] for row in image])
    # Colour-bar pixels lie right of the axes: keep the grid's only.
    red = red[(red[:, 1] > left) & (red[:, 1] < right)]
    blue = blue[(blue[:, 1] > left) & (blue[:, 1] < right)]
    cell_w, cell_h = (right - left) / T, (bottom - top) / U
    for found, (t, u) in ((red, (7, 2)), (blue, (15, 4))):
        assert len(found) > 0.5 * cell_w * cell_h
        y, x = found.mean(axis=0)
        assert abs(x - (left + (t + 0.5) * cell_w)) < 0.5 * cell_w
        assert abs(y - (top + (u + 0.5) * cell_h)) < 0.5 * cell_h
    # Every other grid cell is near white (zero on the diverging map).
    centre = image[int(top + 0.5 * cell_h), int(left + 0.5 * cell_w)]
    assert centre.min() > 0.9


def test_heatmap_non_negative_uses_a_sequential_map(tmp_path):
    values = np.linspace(0, 1, 12).reshape(4, 3)
    fig = plots.heatmap(values, tmp_path / "h.png", colorbar=False, cmap="gray")
    image = read_png(tmp_path / "h.png")
    left, top, right, bottom = axes_box(fig, fig.axes[0], image)
    # gray: the smallest value (t 0, unit 0) black, the largest (t 3, unit 2) white.
    w, h = (right - left) / 4, (bottom - top) / 3
    assert image[int(top + h / 2), int(left + w / 2)].max() < 0.1
    assert image[int(top + 2.5 * h), int(left + 3.5 * w)].min() > 0.9


def test_text_activation_colours_each_character(tmp_path):
    text = "ab\ncdef"
    values = np.array([1.0, 0.0, 0.0, 0.0, 0.0, 0.0, -1.0])
    path = tmp_path / "text.png"
    fig = plots.text_activation(text, values, path, width=3, title="unit 0")
    image = read_png(path)
    ax = fig.axes[0]
    left, top, right, bottom = axes_box(fig, ax, image)
    # Lines: "ab↵" / "cde" / "f" (wrapped at 3): 3 rows, 3 columns.
    cols, rows = 3, 3
    w, h = (right - left) / cols, (bottom - top) / rows

    def corner(row, col):  # away from the glyph in the cell's middle
        return image[int(top + (row + 0.15) * h), int(left + (col + 0.12) * w)]

    assert is_red(corner(0, 0))  # a: +1
    assert corner(0, 1).min() > 0.9  # b: 0 -> white
    assert is_blue(corner(2, 0))  # f: -1, wrapped onto the third line
    assert corner(2, 2).min() > 0.95  # no character there: white


def test_text_activation_layout():
    cells, rows = plots._text_grid("abcd\nxy", 3)
    assert [(r, c) for r, c, _ in cells] == [
        (0, 0),
        (0, 1),
        (0, 2),
        (1, 0),
        (1, 1),
        (2, 0),
        (2, 1),
    ]
    assert cells[4][2] == "\u21b5" and rows == 3
    assert plots._text_grid("ab\n", 5)[1] == 1


def test_training_curves_from_fit_history(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 5, 2))
    y = (x[:, :, 0].sum(axis=1) > 0).astype(int)
    model = seqrnn.Model(
        "gru", input_size=2, hidden_size=8, output_size=2, output="last"
    )
    history = model.fit(x, y, epochs=3, validation_data=(x, y), verbose=0)
    fig = plots.training_curves(history, tmp_path / "curves.png", title="fit")
    read_png(tmp_path / "curves.png")
    assert len(fig.axes) == 2  # losses, then accuracy-like metrics
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert labels == ["loss", "val_loss"]
    assert "accuracy" in [line.get_label() for line in fig.axes[1].get_lines()]
    np.testing.assert_allclose(
        fig.axes[0].get_lines()[0].get_ydata(), history.history["loss"]
    )
    np.testing.assert_array_equal(fig.axes[0].get_lines()[0].get_xdata(), [1, 2, 3])


def test_training_curves_pixels_follow_the_loss(tmp_path):
    loss = list(np.linspace(2.0, 0.5, 10))
    fig = plots.training_curves({"loss": loss}, tmp_path / "c.png")
    assert len(fig.axes) == 1
    image = read_png(tmp_path / "c.png")
    left, top, right, bottom = axes_box(fig, fig.axes[0], image)
    c0 = np.array(matplotlib.colors.to_rgb("C0"))
    mask = np.abs(image - c0).sum(axis=2) < 0.15
    ys, xs = np.nonzero(mask)
    inside = (xs > left) & (xs < right) & (ys > top) & (ys < bottom)
    ys, xs = ys[inside], xs[inside]
    start = ys[xs < np.percentile(xs, 3)].mean()
    end = ys[xs > np.percentile(xs, 97)].mean()
    assert start < top + 0.2 * (bottom - top)  # high loss: near the top
    assert end > top + 0.8 * (bottom - top)  # low loss: near the bottom


def test_pyplot_state_is_untouched(tmp_path):
    backend = matplotlib.get_backend()
    had_pyplot = "matplotlib.pyplot" in sys.modules
    plots.heatmap(np.ones((3, 2)), tmp_path / "a.png")
    plots.text_activation("hi", [0.1, 0.2], tmp_path / "b.png")
    plots.training_curves({"loss": [1.0, 0.5]}, tmp_path / "c.png")
    assert matplotlib.get_backend() == backend
    if not had_pyplot:
        assert "matplotlib.pyplot" not in sys.modules
    else:
        import matplotlib.pyplot as plt

        assert plt.get_fignums() == []


def test_no_path_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fig = plots.heatmap(np.ones((3, 2)))
    assert fig is not None and list(tmp_path.iterdir()) == []


def test_bad_arguments(tmp_path):
    with pytest.raises(seqrnn.ShapeError, match="time, units"):
        plots.heatmap(np.ones(5))
    with pytest.raises(seqrnn.ShapeError):
        plots.heatmap(np.ones((0, 3)))
    with pytest.raises(seqrnn.InvalidArgumentError):
        plots.heatmap([["a", "b"]])
    with pytest.raises(seqrnn.ShapeError, match="steps"):
        plots.heatmap(np.ones((3, 2)), steps="ab")
    with pytest.raises(seqrnn.ShapeError, match="units"):
        plots.heatmap(np.ones((3, 2)), units=[1])
    with pytest.raises(seqrnn.ShapeError, match="one per character"):
        plots.text_activation("abc", [1.0, 2.0])
    with pytest.raises(seqrnn.InvalidArgumentError, match="str"):
        plots.text_activation(b"abc", [1.0, 2.0, 3.0])
    with pytest.raises(seqrnn.InvalidArgumentError, match="width"):
        plots.text_activation("abc", [1.0, 2.0, 3.0], width=0)
    with pytest.raises(seqrnn.InvalidArgumentError, match="no epoch"):
        plots.training_curves({"loss": []})
    with pytest.raises(seqrnn.InvalidArgumentError, match="History"):
        plots.training_curves([1, 2, 3])
    with pytest.raises(OSError):
        plots.heatmap(np.ones((2, 2)), tmp_path / "missing" / "dir" / "x.png")


@pytest.mark.parametrize(
    "call",
    [
        lambda: plots.heatmap(np.ones((2, 2))),
        lambda: plots.text_activation("ab", [0.0, 1.0]),
        lambda: plots.training_curves({"loss": [1.0]}),
    ],
)
def test_missing_matplotlib_says_how_to_install(call, monkeypatch):
    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import fails
    with pytest.raises(ImportError, match="pip install matplotlib"):
        call()
