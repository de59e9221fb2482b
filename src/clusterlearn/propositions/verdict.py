"""Verdict rules, fixed before any result is seen.

A proposition is tested through one or more *parts*; each part is an effect with a claimed
sign, a 95% confidence interval and a region of practical equivalence (``rope``): the
half-width of an interval around zero inside which an effect is too small to matter, in the
effect's own units. The rules are:

``supported``
    the interval lies entirely on the claimed side of zero (``ci_low > 0`` for a claimed
    positive effect, ``ci_high < 0`` for a claimed negative one);
``not supported``
    the interval lies entirely on the wrong side of zero (a reversed effect), or it lies
    entirely inside ``[-rope, rope]`` (an effect shown to be negligible);
``inconclusive``
    anything else: the interval straddles zero without being tight around it, or the
    statistic could not be computed (NaN).

A claim of a change without a direction (``sign = 0``, e.g. "the slope changes at a
threshold") is ``supported`` when the interval excludes zero on either side, ``not
supported`` when it lies within ``[-rope, rope]``, and ``inconclusive`` otherwise.

A proposition with several parts is ``supported`` when every part is, ``not supported`` when
at least one part is, and ``inconclusive`` otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Literal

Verdict = Literal["supported", "not supported", "inconclusive"]

SUPPORTED: Verdict = "supported"
NOT_SUPPORTED: Verdict = "not supported"
INCONCLUSIVE: Verdict = "inconclusive"

RULE_TEXT = (
    "supported if the 95% CI lies entirely on the claimed side of zero (either side for a "
    "claimed change without direction); not supported if it lies entirely on the other side, "
    "or entirely within +/-rope (negligible); otherwise inconclusive. Several parts: "
    "supported if all are, not supported if any is."
)


def decide(ci_low: float, ci_high: float, sign: int, rope: float) -> Verdict:
    """The verdict on one effect.

    Parameters
    ----------
    ci_low, ci_high : float
        The effect's confidence interval.
    sign : {+1, -1, 0}
        The sign the proposition claims (0: a non-zero effect of either sign).
    rope : float
        Half-width (>= 0) of the region of practical equivalence around zero.

    Returns
    -------
    str
        ``"supported"``, ``"not supported"`` or ``"inconclusive"``.

    Examples
    --------
    >>> decide(0.2, 0.5, +1, 0.05)
    'supported'
    >>> decide(-0.5, -0.2, +1, 0.05)
    'not supported'
    >>> decide(-0.01, 0.02, +1, 0.05)
    'not supported'
    >>> decide(-0.3, 0.4, +1, 0.05)
    'inconclusive'
    """
    if sign not in (1, -1, 0):
        raise ValueError(f"sign: expected +1, -1 or 0, got {sign!r}")
    if rope < 0:
        raise ValueError(f"rope: expected a number >= 0, got {rope!r}")
    if not (math.isfinite(ci_low) and math.isfinite(ci_high)):
        return INCONCLUSIVE
    if ci_low > ci_high:
        raise ValueError(f"ci_low must not exceed ci_high; got {ci_low} > {ci_high}")
    if sign == 0:
        if ci_low > 0 or ci_high < 0:
            return SUPPORTED
        return NOT_SUPPORTED if -rope <= ci_low and ci_high <= rope else INCONCLUSIVE
    # Orient the interval so that the claimed direction is positive.
    lo, hi = (ci_low, ci_high) if sign > 0 else (-ci_high, -ci_low)
    if lo > 0:
        return SUPPORTED
    if hi < 0:
        return NOT_SUPPORTED
    if -rope <= lo and hi <= rope:
        return NOT_SUPPORTED
    return INCONCLUSIVE


def combine(verdicts: Iterable[Verdict]) -> Verdict:
    """The verdict on a proposition from the verdicts on its parts.

    Examples
    --------
    >>> combine(["supported", "supported"])
    'supported'
    >>> combine(["supported", "inconclusive"])
    'inconclusive'
    >>> combine(["supported", "not supported", "inconclusive"])
    'not supported'
    """
    vs = list(verdicts)
    if not vs:
        return INCONCLUSIVE
    if any(v == NOT_SUPPORTED for v in vs):
        return NOT_SUPPORTED
    if all(v == SUPPORTED for v in vs):
        return SUPPORTED
    return INCONCLUSIVE
