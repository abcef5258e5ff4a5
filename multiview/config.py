"""Typed, validated configs and KEY=VALUE overrides.

Every knob is a dataclass field declared with `knob(default, allowed, help)`. The `allowed` spec is
the single place a range lives: it validates the value, and `--help` prints it. Relations between
fields (enough patches for the features, ...) are checked in the dataclass's `__post_init__`.
"""
from __future__ import annotations

import dataclasses
import difflib
import math
from dataclasses import dataclass, field, fields, is_dataclass, replace
from typing import Any


class ConfigError(ValueError):
    """A bad config value: one line naming the key, the value and what is allowed."""


@dataclass(frozen=True)
class Real:
    lo: float = -math.inf
    hi: float = math.inf
    lo_open: bool = False
    hi_open: bool = False

    def __contains__(self, v) -> bool:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            return False
        above = v > self.lo if self.lo_open else v >= self.lo
        below = v < self.hi if self.hi_open else v <= self.hi
        return above and below

    def __str__(self) -> str:
        parts = []
        if self.lo > -math.inf:
            parts.append(f"{'>' if self.lo_open else '>='} {self.lo:g}")
        if self.hi < math.inf:
            parts.append(f"{'<' if self.hi_open else '<='} {self.hi:g}")
        return "a number " + " and ".join(parts) if parts else "a finite number"


@dataclass(frozen=True)
class Int(Real):
    def __contains__(self, v) -> bool:
        return isinstance(v, int) and not isinstance(v, bool) and Real.__contains__(self, v)

    def __str__(self) -> str:
        return super().__str__().replace("a number", "an integer")


@dataclass(frozen=True)
class Choice:
    options: tuple

    def __contains__(self, v) -> bool:
        return v in self.options

    def __str__(self) -> str:
        return "one of " + ", ".join(map(str, self.options))


@dataclass(frozen=True)
class ListOf:
    """A comma-separated list of distinct items from `options` (e.g. families=nn,rf)."""
    options: tuple

    def __contains__(self, v) -> bool:
        items = v.split(",") if isinstance(v, str) else []
        return bool(items) and all(i in self.options for i in items) and len(set(items)) == len(items)

    def __str__(self) -> str:
        return "a comma-separated list of distinct items from " + ", ".join(map(str, self.options))


def knob(default, allowed, help: str):
    """A config field with its allowed values and a one-line help."""
    return field(default=default, metadata={"allowed": allowed, "help": help})


def fail(key: str, value, allowed) -> None:
    raise ConfigError(f"{key}={value!r} is not allowed: must be {allowed}")


def validate_fields(cfg) -> None:
    """Check each knob against its `allowed` spec (called from __post_init__)."""
    for f in fields(cfg):
        allowed = f.metadata.get("allowed")
        if allowed is not None and getattr(cfg, f.name) not in allowed:
            fail(f.name, getattr(cfg, f.name), allowed)


def knobs(cfg, prefix: str = "") -> dict[str, tuple[Any, Any, str]]:
    """Flatten a nested config: dotted key -> (value, allowed, help)."""
    out = {}
    for f in fields(cfg):
        value = getattr(cfg, f.name)
        if is_dataclass(value):
            out.update(knobs(value, f"{prefix}{f.name}."))
        else:
            out[prefix + f.name] = (value, f.metadata.get("allowed"), f.metadata.get("help", ""))
    return out


def parse_value(key: str, text: str, current, allowed):
    """Parse TEXT into the type of the field's current value."""
    if isinstance(current, bool):
        if text.lower() in ("1", "true", "yes"):
            return True
        if text.lower() in ("0", "false", "no"):
            return False
        fail(key, text, "true or false")
    if isinstance(current, int):
        try:
            return int(text)
        except ValueError:
            fail(key, text, allowed or "an integer")
    if isinstance(current, float):
        try:
            return float(text)
        except ValueError:
            fail(key, text, allowed or "a number")
    return text


def override(cfg, assignments: list[str]):
    """Apply KEY=VALUE strings (dotted keys) to a frozen nested config and re-validate."""
    table = knobs(cfg)
    updates: dict[str, Any] = {}
    for item in assignments:
        if "=" not in item:
            raise ConfigError(f"override {item!r} is malformed: write KEY=VALUE, e.g. data.k=5")
        key, text = item.split("=", 1)
        if key not in table:
            close = difflib.get_close_matches(key, table, n=1)
            hint = f"; did you mean {close[0]}?" if close else "; see --help for the keys"
            raise ConfigError(f"unknown config key {key!r}{hint}")
        value, allowed, _ = table[key]
        updates[key] = parse_value(key, text, value, allowed)
    return _rebuild(cfg, updates, "")


def _rebuild(cfg, updates: dict[str, Any], prefix: str):
    changes = {}
    for f in fields(cfg):
        key = prefix + f.name
        value = getattr(cfg, f.name)
        if is_dataclass(value):
            changes[f.name] = _rebuild(value, updates, key + ".")
        elif key in updates:
            changes[f.name] = updates[key]
    try:
        return replace(cfg, **changes)
    except ConfigError as err:  # name the key with its section
        raise ConfigError(prefix + str(err)) from None


def to_dict(cfg) -> dict:
    return dataclasses.asdict(cfg)


def describe(cfg) -> str:
    """One line per key: key = default  (allowed)  help."""
    rows = [(k, repr(v), str(a) if a is not None else "", h) for k, (v, a, h) in knobs(cfg).items()]
    w0, w1 = max(len(r[0]) for r in rows), max(len(r[1]) for r in rows)
    return "\n".join(f"  {k:<{w0}} = {v:<{w1}}  {h} [{a}]" for k, v, a, h in rows)
