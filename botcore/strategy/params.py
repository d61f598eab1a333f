"""Strategy parameters declared as typed class attributes with a default and a search range.

    class SmaCross(Strategy):
        fast = IntParam(10, low=2, high=100, help="fast SMA period")

`SmaCross(fast=20).fast` is 20; `SmaCross.fast` is the declaration, which the optimiser reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar, overload

from botcore.errors import ParamError

__all__ = ["BoolParam", "FloatParam", "IntParam", "Param"]

T = TypeVar("T", int, float, bool)


@dataclass(frozen=True)
class Param(Generic[T]):
    """A declared parameter; on an instance the attribute reads the instance's value."""

    default: T
    low: T | None = None
    high: T | None = None
    step: T | None = None
    help: str = ""
    log: bool = False
    name: str = ""

    def __set_name__(self, owner: type, name: str) -> None:
        object.__setattr__(self, "name", name)

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> Param[T]: ...
    @overload
    def __get__(self, obj: object, owner: type | None = None) -> T: ...
    def __get__(self, obj: object | None, owner: type | None = None) -> Param[T] | T:
        if obj is None:
            return self
        values: dict[str, Any] = obj.__dict__["_param_values"]
        return values[self.name]

    @property
    def kind(self) -> type:
        """The Python type of the value."""
        return type(self.default)

    def convert(self, raw: object) -> T:
        """Coerce `raw` (a value or text from the command line) and check the range."""
        kind = self.kind
        try:
            if kind is bool:
                value: Any = _to_bool(raw)
            elif kind is int:
                as_float = float(raw)  # type: ignore[arg-type]
                if not as_float.is_integer():
                    raise ValueError
                value = int(as_float)
            else:
                value = float(raw)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ParamError(
                f"parameter '{self.name}' takes a {kind.__name__}, not {raw!r}"
            ) from None
        if self.low is not None and value < self.low:
            raise ParamError(f"parameter '{self.name}' must be at least {self.low}, got {value}")
        if self.high is not None and value > self.high:
            raise ParamError(f"parameter '{self.name}' must be at most {self.high}, got {value}")
        return value

    def describe_range(self) -> str:
        """`2..100`, `0.5..5.0 step 0.5` or `-` for unbounded."""
        if self.low is None or self.high is None:
            return "-"
        text = f"{self.low}..{self.high}"
        return f"{text} step {self.step}" if self.step is not None else text


def _to_bool(raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ValueError(text)


def IntParam(
    default: int,
    low: int | None = None,
    high: int | None = None,
    step: int | None = None,
    help: str = "",
) -> Param[int]:
    """An integer parameter searched over `low..high` (every `step`)."""
    return Param(default, low, high, step, help)


def FloatParam(
    default: float,
    low: float | None = None,
    high: float | None = None,
    step: float | None = None,
    help: str = "",
    log: bool = False,
) -> Param[float]:
    """A float parameter searched over `low..high` (log scale when `log`)."""
    return Param(float(default), low, high, step, help, log)


def BoolParam(default: bool, help: str = "") -> Param[bool]:
    """An on/off parameter."""
    return Param(default, None, None, None, help)
