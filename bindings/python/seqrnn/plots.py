"""Pictures of what a model does: a heatmap of units over time, one unit's
activation coloured over the characters of a text, and training curves.

matplotlib is an optional dependency (``pip install matplotlib``, or
``pip install seqrnn[plots]``); it is imported only when a function here is
called, and a missing matplotlib raises an ``ImportError`` that says so.
Figures are drawn on matplotlib's Agg canvas directly (``matplotlib.figure.
Figure``, not ``pyplot``), so nothing here changes the backend, the open
figures or any other global state a program or notebook has set. Each
function returns its ``Figure`` and, given a path, writes it there as PNG.

>>> import numpy as np, seqrnn
>>> m = seqrnn.Model("lstm", vocab_size=5, hidden_size=8, output_size=5)
>>> r = m.record([[1, 2, 3, 4, 0, 1]])
>>> fig = seqrnn.plots.heatmap(r.hidden[0], title="hidden states")  # doctest: +SKIP
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Union

import numpy as np

from .errors import InvalidArgumentError, ShapeError, fail

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["heatmap", "text_activation", "training_curves"]

PathLike = Union[str, "os.PathLike[str]"]

_INSTALL_HINT = (
    "seqrnn.plots needs matplotlib, which is not installed: "
    "pip install matplotlib (or pip install 'seqrnn[plots]')"
)

# How a character is shown in a cell or tick label.
_VISIBLE = {"\n": "\u21b5", "\t": "\u21e5", " ": " ", "\r": "\u240d"}


def _matplotlib() -> tuple[Any, Any, Any]:
    """(Figure, FigureCanvasAgg, matplotlib), or the ImportError that says
    how to install matplotlib."""
    try:
        import matplotlib
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(_INSTALL_HINT) from error
    return Figure, FigureCanvasAgg, matplotlib


def _figure(figsize: tuple[float, float], dpi: float) -> Figure:
    """A figure on its own Agg canvas (no pyplot, no global backend)."""
    Figure, FigureCanvasAgg, _ = _matplotlib()
    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def _colormap(cmap: Any) -> Any:
    """A colormap from a name or a Colormap, painting NaN (empty) white."""
    _, _, matplotlib = _matplotlib()
    colormap = matplotlib.colormaps[cmap] if isinstance(cmap, str) else cmap
    return colormap.with_extremes(bad="white")


def _limits(
    values: np.ndarray, vmin: float | None, vmax: float | None, cmap: Any
) -> tuple[float, float, Any]:
    """Colour limits and colormap: symmetric around 0 with a diverging map
    when the values have both signs, else their range with viridis."""
    finite = values[np.isfinite(values)]
    low = float(finite.min()) if finite.size else 0.0
    high = float(finite.max()) if finite.size else 1.0
    if cmap is None:
        cmap = "RdBu_r" if low < 0 else "viridis"
    if vmin is None and vmax is None and low < 0:
        bound = max(abs(low), abs(high)) or 1.0
        return -bound, bound, cmap
    lo = low if vmin is None else float(vmin)
    hi = high if vmax is None else float(vmax)
    if hi <= lo:
        hi = lo + 1.0
    return lo, hi, cmap


def _save(fig: Figure, path: PathLike | None) -> None:
    if path is not None:
        fig.savefig(os.fspath(path), format="png", dpi=fig.dpi)


def _real_array(values: Any, name: str, ndim: int, what: str) -> np.ndarray:
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        fail(InvalidArgumentError, f"{name}: expected real numbers {what}")
    if array.ndim != ndim or array.size == 0:
        fail(
            ShapeError,
            f"{name}: expected a non-empty array {what}, got shape {array.shape}",
        )
    return array


def heatmap(
    values: Any,
    path: PathLike | None = None,
    *,
    title: str | None = None,
    steps: Sequence[Any] | None = None,
    units: Sequence[int] | None = None,
    xlabel: str = "step",
    ylabel: str = "unit",
    cmap: Any = None,
    vmin: float | None = None,
    vmax: float | None = None,
    colorbar: bool = True,
    figsize: tuple[float, float] | None = None,
    dpi: float = 100,
) -> Figure:
    """Units over time: ``values[t, u]`` as a colour grid with time along x
    and one row per unit (unit 0 at the top).

    Args:
        values: ``[time, units]``, e.g. ``model.record(x).hidden[0]`` or a
            selection of its columns. NaN cells are left white.
        path: where to write the PNG (None: only return the figure).
        title: text above the grid.
        steps: optional label of each step (e.g. the characters of the
            input), shown as x tick labels; newlines show as ``↵``.
        units: optional label of each row (e.g. the unit indices of a
            selection); default 0, 1, ...
        cmap, vmin, vmax: colours. By default values of both signs get the
            diverging ``RdBu_r`` centred on 0 (red positive, blue negative),
            non-negative ones ``viridis`` over their range.
        colorbar: draw a colour bar.
        figsize, dpi: size in inches (default: grows with the grid) and
            resolution.

    Returns the matplotlib ``Figure``.
    """
    grid = _real_array(values, "values", 2, "shaped [time, units]")
    T, U = grid.shape
    if steps is not None and len(steps) != T:
        fail(ShapeError, f"steps: expected {T} labels (one per step), got {len(steps)}")
    if units is not None and len(units) != U:
        fail(ShapeError, f"units: expected {U} labels (one per unit), got {len(units)}")
    lo, hi, cmap = _limits(grid, vmin, vmax, cmap)
    if figsize is None:
        figsize = (
            min(16.0, max(6.0, 2.5 + 0.12 * T)),
            min(12.0, max(2.5, 1.4 + 0.16 * U)),
        )
    fig = _figure(figsize, dpi)
    ax = fig.add_subplot(1, 1, 1)
    image = ax.imshow(
        np.ma.masked_invalid(grid.T),
        cmap=_colormap(cmap),
        vmin=lo,
        vmax=hi,
        aspect="auto",
        interpolation="nearest",
    )
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if steps is not None:
        stride = max(1, int(np.ceil(T / 160)))
        ticks = list(range(0, T, stride))
        ax.set_xticks(ticks)
        ax.set_xticklabels(
            [_VISIBLE.get(str(steps[t]), str(steps[t])) for t in ticks],
            family="monospace",
            fontsize=9 if T <= 80 else 7,
        )
    if units is not None or U <= 40:
        stride = max(1, int(np.ceil(U / 40)))
        ticks = list(range(0, U, stride))
        ax.set_yticks(ticks)
        ax.set_yticklabels(
            [str(units[u] if units is not None else u) for u in ticks], fontsize=8
        )
    if colorbar:
        fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02)
    fig.tight_layout()
    _save(fig, path)
    return fig


def _text_grid(text: str, width: int) -> tuple[list[tuple[int, int, str]], int]:
    """Cell (row, column, shown character) of each character of ``text``,
    wrapping at ``width`` columns and after each newline; and the row count."""
    cells = []
    row = col = 0
    for ch in text:
        if col == width:
            row, col = row + 1, 0
        cells.append((row, col, _VISIBLE.get(ch, ch)))
        col += 1
        if ch == "\n":
            row, col = row + 1, 0
    rows = row + 1 if col > 0 or not cells else row
    return cells, max(rows, 1)


def text_activation(
    text: str,
    values: Any,
    path: PathLike | None = None,
    *,
    width: int = 80,
    title: str | None = None,
    cmap: Any = "RdBu_r",
    vmin: float | None = None,
    vmax: float | None = None,
    fontsize: float = 11,
    colorbar: bool = True,
    dpi: float = 100,
) -> Figure:
    """One unit's activation coloured over the characters of a text: each
    character sits on a cell whose colour is ``values[i]`` (Karpathy's
    "visualizing recurrent networks" pictures).

    Args:
        text: the characters the model read (one value each).
        values: ``[len(text)]`` activations, e.g. ``r.hidden[0, :, unit]``.
        path: where to write the PNG (None: only return the figure).
        width: characters per line; lines also break after each newline,
            which shows as ``↵``.
        title: text above.
        cmap, vmin, vmax: colours; by default the diverging ``RdBu_r``
            symmetric around 0 (red positive, blue negative, white 0), so
            the sign of a tanh unit reads at a glance.
        fontsize: character size in points; the picture's size follows.
        colorbar: draw a colour bar under the text.
        dpi: resolution.

    Returns the matplotlib ``Figure``.
    """
    if not isinstance(text, str):
        fail(InvalidArgumentError, f"text: expected a str, got {type(text).__name__}")
    activation = _real_array(values, "values", 1, "shaped [len(text)]")
    if activation.shape[0] != len(text):
        fail(
            ShapeError,
            f"values: expected {len(text)} values (one per character of text), "
            f"got {activation.shape[0]}",
        )
    if isinstance(width, bool) or not isinstance(width, (int, np.integer)) or width < 1:
        fail(InvalidArgumentError, f"width: expected an integer >= 1, got {width!r}")
    if vmin is None and vmax is None:
        finite = activation[np.isfinite(activation)]
        bound = float(np.abs(finite).max()) if finite.size else 1.0
        vmin, vmax = -(bound or 1.0), bound or 1.0
    lo, hi, cmap = _limits(activation, vmin, vmax, cmap)
    cells, rows = _text_grid(text, int(width))
    columns = min(int(width), max((c for _, c, _ in cells), default=0) + 1)
    grid = np.full((rows, columns), np.nan)
    for (r, c, _), v in zip(cells, activation):
        grid[r, c] = v
    # Cell size from the font: monospace glyphs are ~0.6 em wide.
    cell_w = fontsize * 0.75 / 72
    cell_h = fontsize * 1.45 / 72
    margin = 0.25
    fig_w = max(columns * cell_w + 2 * margin, 2.5)
    # Wrap the title to the picture's width (~0.6 em per character).
    title_lines = textwrap.wrap(
        title or "", max(10, int(fig_w * 72 / (fontsize * 0.6)))
    )
    top = margin + 0.25 * len(title_lines) * fontsize / 11 if title_lines else margin
    bar = 0.55 if colorbar else 0.0
    fig_h = rows * cell_h + top + margin + bar
    fig = _figure((fig_w, fig_h), dpi)
    ax = fig.add_axes(
        (
            margin / fig_w,
            (margin + bar) / fig_h,
            columns * cell_w / fig_w,
            rows * cell_h / fig_h,
        )
    )
    colormap = _colormap(cmap)
    image = ax.imshow(
        np.ma.masked_invalid(grid),
        cmap=colormap,
        vmin=lo,
        vmax=hi,
        aspect="auto",
        interpolation="nearest",
    )
    ax.set_axis_off()
    norm = image.norm
    for (r, c, shown), v in zip(cells, activation):
        if shown == " ":
            continue
        red, green, blue, _ = colormap(norm(v)) if np.isfinite(v) else (1, 1, 1, 1)
        light = 0.299 * red + 0.587 * green + 0.114 * blue > 0.5
        ax.text(
            c,
            r,
            shown,
            ha="center",
            va="center",
            family="monospace",
            fontsize=fontsize,
            color="black" if light else "white",
        )
    if title_lines:
        fig.text(
            0.5,
            1 - 0.12 / fig_h,
            "\n".join(title_lines),
            ha="center",
            va="top",
            fontsize=fontsize,
        )
    if colorbar:
        cax = fig.add_axes(
            (
                margin / fig_w,
                0.18 / fig_h,
                min(columns * cell_w, 3.0) / fig_w,
                0.12 / fig_h,
            )
        )
        fig.colorbar(image, cax=cax, orientation="horizontal")
        cax.tick_params(labelsize=7)
    _save(fig, path)
    return fig


def training_curves(
    history: Any,
    path: PathLike | None = None,
    *,
    title: str | None = None,
    xlabel: str = "epoch",
    figsize: tuple[float, float] | None = None,
    dpi: float = 100,
) -> Figure:
    """The metrics of each epoch from :meth:`seqrnn.Model.fit`: losses on the
    left (``loss`` solid, ``val_loss`` dashed in the same colour), other
    metrics (accuracy, F1, ...) on the right when there are any.

    Args:
        history: the :class:`seqrnn.History` that ``fit`` returns, or a
            mapping name -> list of per-epoch values (``history.history``).
        path: where to write the PNG (None: only return the figure).
        title: text above.
        xlabel: the x axis' label (points are numbered from 1).
        figsize, dpi: size in inches and resolution.

    Returns the matplotlib ``Figure``.
    """
    series = getattr(history, "history", history)
    if not isinstance(series, Mapping):
        fail(
            InvalidArgumentError,
            "history: expected the History that Model.fit returns or a dict "
            f"name -> per-epoch values, got {type(history).__name__}",
        )
    curves = {
        str(name): np.asarray(values, dtype=np.float64).ravel()
        for name, values in series.items()
        if len(values)
    }
    if not curves:
        fail(InvalidArgumentError, "history: no epoch has been recorded")
    epochs = getattr(history, "epoch", None)
    losses = [name for name in curves if "loss" in name]
    others = [name for name in curves if name not in losses]
    panels = [group for group in (losses, others) if group]
    if figsize is None:
        figsize = (5.5 * len(panels), 4.0)
    fig = _figure(figsize, dpi)
    from matplotlib import ticker

    for index, group in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), index + 1)
        bases = sorted({name.removeprefix("val_") for name in group})
        for colour, base in enumerate(bases):
            for name, style in ((base, "-"), ("val_" + base, "--")):
                if name not in curves:
                    continue
                y = curves[name]
                if epochs is not None and len(epochs) == len(y):
                    x = np.asarray(epochs) + 1
                else:
                    x = np.arange(1, len(y) + 1)
                ax.plot(
                    x,
                    y,
                    style,
                    color=f"C{colour}",
                    marker="o" if len(y) <= 20 else None,
                    markersize=3,
                    label=name,
                )
        ax.set_xlabel(xlabel)
        ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
        ax.set_ylabel("loss" if group is losses else "metric")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    if title:
        # Wrapped to the figure's width (~0.55 em per character at 12 pt).
        width = max(10, int(fig.get_figwidth() * 72 / (12 * 0.55)))
        fig.suptitle("\n".join(textwrap.wrap(title, width)))
    fig.tight_layout()
    _save(fig, path)
    return fig
