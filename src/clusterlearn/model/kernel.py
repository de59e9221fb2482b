"""The one learning kernel every channel moves knowledge with (MODEL.md section 2)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


def absorb(gap: FloatArray | float, alpha: FloatArray | float) -> FloatArray:
    """Knowledge absorbed across a gap by a learner of absorptive capacity ``alpha``.

    ``absorb(x, a) = x * exp(-x / a)`` for ``x = max(0, gap)``: it rises with small gaps,
    peaks at ``x = a`` and falls when the gap exceeds what the learner can understand
    (Nooteboom's cognitive distance). As ``a`` grows it tends to the linear rule ``x``.

    Parameters
    ----------
    gap : array_like
        Source level minus own level; negative gaps count as zero.
    alpha : array_like
        Absorptive capacity, strictly positive; ``numpy.inf`` gives the linear rule.
        Broadcast against ``gap`` (pass ``alpha[:, None]`` for a firms x domains gap).

    Returns
    -------
    numpy.ndarray
        The absorbed amount, never negative and never larger than the gap.

    Examples
    --------
    >>> float(absorb(1.0, 1.0))  # the peak: x = a
    0.36787944117144233
    >>> float(absorb(2.0, np.inf))  # linear limit
    2.0
    >>> float(absorb(-1.0, 1.0))
    0.0
    """
    x = np.maximum(np.asarray(gap, dtype=np.float64), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.asarray(np.divide(x, alpha), dtype=np.float64)
        np.negative(out, out=out)
        np.exp(out, out=out)
        out *= x  # in place: this kernel runs on firms x domains arrays in every channel
    return np.asarray(out, dtype=np.float64)
