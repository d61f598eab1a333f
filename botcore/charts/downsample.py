"""Thinning long series for drawing without losing their extremes."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["DEFAULT_BUCKETS", "envelope_indices"]

IndexArray = npt.NDArray[np.intp]

# About one bucket per horizontal pixel of a 1080 px wide chart's plot area.
DEFAULT_BUCKETS = 1000


def envelope_indices(values: npt.ArrayLike, buckets: int = DEFAULT_BUCKETS) -> IndexArray:
    """Positions of the points to draw so a line through them keeps the series' envelope.

    The series is cut into `buckets` runs of consecutive points; each run contributes the
    position of its lowest and of its highest value (NaN ignored), and the first and last points
    are always kept. A series of at most `2 * buckets` points is returned whole. The global
    minimum and maximum are therefore always among the returned points: a drawdown or an equity
    peak is never cut off.

    Args:
        values: The series, one value per bar (NaN marks a gap).
        buckets: How many runs to cut the series into (about the plot width in pixels).

    Returns:
        Sorted, unique positions into `values`.
    """
    y = np.asarray(values, dtype=np.float64)
    n = len(y)
    if n <= 2 * buckets:
        return np.arange(n, dtype=np.intp)
    size = -(-n // buckets)  # ceil: every run but the last has `size` points
    full = n // size
    lows = np.where(np.isnan(y), np.inf, y)
    highs = np.where(np.isnan(y), -np.inf, y)
    starts = np.arange(full, dtype=np.intp) * size
    picks = [
        starts + lows[: full * size].reshape(full, size).argmin(axis=1),
        starts + highs[: full * size].reshape(full, size).argmax(axis=1),
        np.array([0, n - 1], dtype=np.intp),
    ]
    if full * size < n:
        tail = full * size
        picks.append(np.array([tail + lows[tail:].argmin(), tail + highs[tail:].argmax()]))
    return np.unique(np.concatenate(picks))
