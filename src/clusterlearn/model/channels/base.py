"""The common interface of a learning channel (MODEL.md section 3).

A channel is one small module: a :class:`Channel` subclass with a ``Params`` model (its
scenario section ``[channels.<name>]``) and an :meth:`Channel.apply` that reads the state and
returns a :class:`ChannelOutput`. The engine applies the output, so a channel never mutates
the state itself; that keeps every channel testable alone
(see ``tests/test_channel_conformance.py``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import MISSING, dataclass, field, fields
from typing import TYPE_CHECKING, ClassVar, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from clusterlearn.model.kernel import gained, scatter_add
from clusterlearn.model.layers import TieChange

if TYPE_CHECKING:
    from clusterlearn.model.context import StepContext
    from clusterlearn.model.state import State

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


class ChannelParams(BaseModel):
    """Parameters every channel has: an on/off switch and a rate ``beta``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = Field(True, description="switch the channel on or off")
    rate: float = Field(0.1, ge=0.0, le=1.0, description="the channel's rate beta_ch")


@dataclass
class ChannelOutput:
    """What a channel does in one step; the engine applies it.

    ``dT`` and ``dE`` are gains (never negative), or None for no change: dense ``n x D``
    arrays, or, when ``rows`` is given, one row per entry of ``rows`` (a firm may repeat; its
    rows add up; a channel that knows its rows are distinct sets ``rows_unique``), so that a
    channel touching few firms costs little. ``lossT`` is dense tacit
    knowledge a source gives up (only channels with ``source_loses = True`` may set it), dense or
    for the distinct firms in ``loss_rows``.
    On ties of ``trust_layer``: ``success_edge`` lists a tie once per useful meeting (trust rises
    by ``eta_up (1 - trust)`` per meeting), ``betrayal_edge`` once per meeting where a partner was
    opportunistic (trust falls by ``eta_down x trust`` per meeting; applied after successes),
    ``used_edge`` ties used this step.
    ``new_ties`` creates ties; ``births`` are new firms. ``row_gain``, when the channel has
    it, is each row's total gain (its ``dT`` row summed left to right, plus its ``dE`` row so
    summed), which the engine would otherwise sum again. ``row_meetings``: each row is one
    interaction of its firm (instead of a dense ``meetings``).
    """

    dT: FloatArray | None = None
    dE: FloatArray | None = None
    rows: IntArray | None = None
    rows_unique: bool = False
    lossT: FloatArray | None = None
    loss_rows: IntArray | None = None
    workers: IntArray | None = None
    alpha_bonus: FloatArray | None = None
    trust_layer: str = ""
    success_edge: IntArray | None = None
    betrayal_edge: IntArray | None = None
    used_edge: IntArray | None = None
    new_ties: list[TieChange] = field(default_factory=list)
    births: dict[str, np.ndarray] | None = None
    spend: FloatArray | None = None
    pool: FloatArray | None = None
    meetings: IntArray | None = None  # per firm: interactions held (C1 talks, C2 exchanges)
    row_gain: FloatArray | None = None
    row_meetings: bool = False  # each row of ``rows`` is one interaction of its firm

    def is_empty(self) -> bool:
        """True when the output changes nothing (every field at its default)."""
        values = self.__dict__
        for name, default in _DEFAULTS:
            v = values[name]
            if default is None:
                if v is not None:
                    return False
            elif isinstance(v, list):
                if v:
                    return False
            elif v != default:
                return False
        return True

    @property
    def tacit_flow(self) -> float:
        return float(self.dT.sum()) if self.dT is not None else 0.0

    @property
    def explicit_flow(self) -> float:
        return float(self.dE.sum()) if self.dE is not None else 0.0

    def dense(self, n: int, d: int) -> tuple[FloatArray, FloatArray]:
        """``dT`` and ``dE`` as dense ``n x D`` arrays (for tests and inspection)."""
        out = []
        for part in (self.dT, self.dE):
            full = np.zeros((n, d))
            if part is not None:
                if self.rows is None:
                    full += part
                else:
                    scatter_add(full, self.rows, part)
            out.append(full)
        return out[0], out[1]

    def meetings_of(self, n: int) -> IntArray:
        """Interactions held per firm (dense), whichever way the channel gave them."""
        if self.row_meetings and self.rows is not None:
            return np.bincount(self.rows, minlength=n)
        return np.zeros(n, dtype=np.int64) if self.meetings is None else self.meetings

    def gained(self, n: int) -> FloatArray:
        """Knowledge gained per firm (tacit plus explicit)."""
        if self.row_gain is not None and self.rows is not None:
            # added into each firm in row order from 0, as gained() adds
            return np.bincount(self.rows, weights=self.row_gain, minlength=n).astype(
                np.float64, copy=False
            )
        return gained(n, self.rows, self.dT, self.dE, distinct=self.rows_unique)


# Each field's default (a list field's is the empty list), read once: dataclasses.fields()
# per call cost a tenth of a millisecond a step.
_DEFAULTS: tuple[tuple[str, object], ...] = tuple(
    (f.name, f.default if f.default is not MISSING else []) for f in fields(ChannelOutput)
)


class Channel(ABC):
    """One learning channel. Subclasses set the class attributes and implement ``apply``."""

    name: ClassVar[str]
    code: ClassVar[str]
    network: ClassVar[Literal["core", "auxiliary", "exterior"]]
    seci: ClassVar[Literal["S", "C", "S+C"]]
    in_cluster: ClassVar[bool] = True
    source_loses: ClassVar[bool] = False
    motive: ClassVar[Literal["spillover", "coordination", "resource", "none"]] = "none"
    Params: ClassVar[type[ChannelParams]] = ChannelParams

    @abstractmethod
    def apply(
        self, state: State, params: ChannelParams, ctx: StepContext, rng: np.random.Generator
    ) -> ChannelOutput:
        """Compute this channel's effect for one step from the current state."""
