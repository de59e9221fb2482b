"""The common interface of a learning channel (MODEL.md section 3).

A channel is one small module: a :class:`Channel` subclass with a ``Params`` model (its
scenario section ``[channels.<name>]``) and an :meth:`Channel.apply` that reads the state and
returns a :class:`ChannelOutput`. The engine applies the output, so a channel never mutates
the state itself; that keeps every channel testable alone (see ``tests/test_channel_conformance.py``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

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

    ``dT`` and ``dE`` are gains (never negative). ``lossT`` is knowledge a source gives up
    (only channels with ``source_loses = True`` may set it). ``trust_edge``/``trust_value``
    set new trust values on existing ties of ``trust_layer``; ``new_ties`` creates ties.
    """

    dT: FloatArray
    dE: FloatArray
    lossT: FloatArray | None = None
    workers: IntArray | None = None
    alpha_bonus: FloatArray | None = None
    trust_layer: str = ""
    trust_edge: IntArray | None = None
    trust_value: FloatArray | None = None
    used_edge: IntArray | None = None
    new_ties: list[TieChange] = field(default_factory=list)
    births: dict[str, np.ndarray] | None = None
    spend: FloatArray | None = None
    pool: FloatArray | None = None

    @classmethod
    def zero(cls, n: int, d: int) -> ChannelOutput:
        return cls(dT=np.zeros((n, d)), dE=np.zeros((n, d)))

    @property
    def tacit_flow(self) -> float:
        return float(self.dT.sum())

    @property
    def explicit_flow(self) -> float:
        return float(self.dE.sum())


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
