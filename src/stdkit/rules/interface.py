"""Rules for interface standards: units, signal layout and scaling, messages and nodes."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from importlib import resources

from stdkit import yamlio
from stdkit.diagnostics import Diagnostic
from stdkit.model import Message, Node, Signal, ValueTable, descendants
from stdkit.rules import Context, PartContext, did_you_mean

EPSILON = 1e-9


@cache
def unit_catalogue() -> dict[str, tuple[str, str, str]]:
    """The bundled units: id -> (quantity, English name, Chinese name)."""
    text = resources.files("stdkit").joinpath("data", "units.yaml").read_text("utf-8")
    data = yamlio.parse(text, "units.yaml").data
    return {str(k): (v[0], v[1], v[2]) for k, v in data.items()}


def raw_range(signal: Signal) -> tuple[int, int] | None:
    """The raw values the signal's bits can hold."""
    if signal.length is None:
        return None
    if signal.signed:
        return -(2 ** (signal.length - 1)), 2 ** (signal.length - 1) - 1
    return 0, 2**signal.length - 1


def to_raw(signal: Signal, physical: float) -> float | None:
    if not signal.factor:
        return None
    return (physical - (signal.offset or 0)) / signal.factor


def bits(signal: Signal) -> list[int]:
    """Bit positions (bit 0 = LSB of byte 0) occupied by the signal, per its byte order."""
    if signal.start_bit is None or signal.length is None:
        return []
    if signal.byte_order == "big_endian":
        # Motorola, DBC numbering: start_bit is the most significant bit; walk down within a
        # byte, then on to bit 7 of the next byte.
        out = []
        bit = signal.start_bit
        for _ in range(signal.length):
            out.append(bit)
            bit = bit + 15 if bit % 8 == 0 else bit - 1
        return out
    return list(range(signal.start_bit, signal.start_bit + signal.length))


def _fmt(x: float) -> str:
    return f"{x:.12g}" if isinstance(x, float) else str(x)


def signals(ctx: Context) -> Iterator[Diagnostic]:
    if ctx.standard.kind != "interface":
        return
    units = set(unit_catalogue()) | {unit for part in ctx.parts for unit in part.units}
    for obj, parent in ctx.objects:
        if not isinstance(obj, Signal) or not isinstance(parent, Message):
            continue
        yield from _signal(ctx, obj, parent, units)


def _signal(ctx: Context, s: Signal, msg: Message, units: set[str]) -> Iterator[Diagnostic]:
    o = s.origin
    if s.unit is not None and s.unit not in units:
        yield ctx.find("IF001", f"unknown unit {s.unit!r}", o, s.id, at=o.at("unit"),
                       hint=did_you_mean(s.unit, units) or
                       "declare it with units: [{id, name, quantity}] in a clause")
    table = None
    if s.value_table is not None:
        target = ctx.index.get(s.value_table)
        if isinstance(target, ValueTable):
            table = target
        else:
            what = f"a {target.KIND}" if target else "nothing"
            yield ctx.find("IF013", f"value_table {s.value_table!r} names {what}", o, s.id,
                           at=o.at("value_table"), missing=target is None,
                           hint=did_you_mean(s.value_table, [
                               k for k, v in ctx.index.items() if isinstance(v, ValueTable)]))
    if s.value_table is None and (s.min is None or s.max is None):
        missing = " and ".join(k for k in ("min", "max") if getattr(s, k) is None)
        yield ctx.find("IF015", f"the signal has no {missing} and no value table", o, s.id,
                       hint="give min and max (physical values), or a value_table")
    rng = raw_range(s)
    lo_hi: tuple[float, float] | None = None
    if s.min is not None and s.max is not None:
        if s.min > s.max:
            yield ctx.find("IF002", f"min {_fmt(s.min)} > max {_fmt(s.max)}", o, s.id,
                           at=o.at("min"), hint="swap them")
        elif rng is not None and s.factor:
            a, b = to_raw(s, s.min), to_raw(s, s.max)
            if a is not None and b is not None:
                lo_hi = (min(a, b), max(a, b))
                if lo_hi[0] < rng[0] - EPSILON or lo_hi[1] > rng[1] + EPSILON:
                    phys = sorted(x * s.factor + (s.offset or 0) for x in rng)
                    yield ctx.find(
                        "IF004",
                        f"the range {_fmt(s.min)}…{_fmt(s.max)} needs raw values"
                        f" {_fmt(lo_hi[0])}…{_fmt(lo_hi[1])}, but {s.length}"
                        f" {'signed' if s.signed else 'unsigned'} bits hold {rng[0]}…{rng[1]}",
                        o, s.id, at=o.at("min"),
                        hint=f"with factor {_fmt(s.factor)} and offset {_fmt(s.offset or 0)} the"
                        f" representable range is {_fmt(phys[0])}…{_fmt(phys[1])}; widen the"
                        " signal or change factor/offset")
        if (s.initial is not None and s.min <= s.max
                and not s.min - EPSILON <= s.initial <= s.max + EPSILON):
            yield ctx.find("IF003",
                           f"initial {_fmt(s.initial)} is outside {_fmt(s.min)}…{_fmt(s.max)}",
                           o, s.id, at=o.at("initial"))
    if s.invalid_raw is not None and rng is not None:
        if not rng[0] <= s.invalid_raw <= rng[1]:
            yield ctx.find("IF005", f"invalid_raw {s.invalid_raw} does not fit {s.length}"
                           f" {'signed' if s.signed else 'unsigned'} bits ({rng[0]}…{rng[1]})",
                           o, s.id, at=o.at("invalid_raw"))
        elif lo_hi is not None and lo_hi[0] - EPSILON <= s.invalid_raw <= lo_hi[1] + EPSILON:
            spare = (rng[1] if rng[1] > lo_hi[1] + EPSILON
                     else rng[0] if rng[0] < lo_hi[0] - EPSILON else None)
            yield ctx.find("IF005",
                           f"invalid_raw {s.invalid_raw} lies inside the valid raw range"
                           f" {_fmt(lo_hi[0])}…{_fmt(lo_hi[1])}", o, s.id, at=o.at("invalid_raw"),
                           hint=f"use a raw value outside it, e.g. {spare}" if spare is not None
                           else "the valid range uses every raw value: narrow it or widen the"
                           " signal")
    if table is not None and rng is not None:
        for entry in table.entries:
            if entry.value is not None and not rng[0] <= entry.value <= rng[1]:
                yield ctx.find("IF009",
                               f"value {entry.value} ({entry.name}) of {table.id} does not fit"
                               f" the signal's {s.length} bits ({rng[0]}…{rng[1]})",
                               o, s.id, at=o.at("value_table"))
    if msg.dlc is not None:
        limit = msg.dlc * 8
        outside = [b for b in bits(s) if b >= limit or b < 0]
        if outside:
            first_bit = s.start_bit or 0
            yield ctx.find("IF006", f"bits {first_bit}…{first_bit + (s.length or 1) - 1}"
                           f" ({s.byte_order}) reach bit {max(outside)}, beyond the"
                           f" {limit} bits of dlc {msg.dlc}", o, s.id, at=o.at("start_bit"))


def messages(ctx: Context) -> Iterator[Diagnostic]:
    if ctx.standard.kind != "interface":
        return
    can_ids: dict[int, Message] = {}
    names: dict[str, Message] = {}
    for obj, _ in ctx.objects:
        if not isinstance(obj, Message):
            continue
        m, o = obj, obj.origin
        if m.can_id is not None:
            try:
                value = int(m.can_id, 16)
            except ValueError:
                value = None
            if value is not None:
                if value > 0x1FFFFFFF:
                    yield ctx.find("IF014", f"CAN id {m.can_id} does not fit 29 bits", o, m.id,
                                   at=o.at("can_id"))
                first = can_ids.setdefault(value, m)
                if first is not m:
                    yield ctx.find("IF010", f"CAN id {m.can_id} is already used by {first.id}"
                                   f" ({first.origin.file}:{first.origin.line})", o, m.id,
                                   at=o.at("can_id"))
        if m.name is not None:
            first = names.setdefault(m.name, m)
            if first is not m:
                yield ctx.find("IF018", f"the message name {m.name!r} is already used by"
                               f" {first.id}", o, m.id, at=o.at("name"))
        if m.transmission in ("cyclic", "cyclic-and-event") and m.cycle_ms is None:
            yield ctx.find("IF016", f"a {m.transmission} message needs cycle_ms", o, m.id,
                           hint="add cycle_ms: …")
        if m.cycle_ms is not None and m.timeout_ms is not None and m.timeout_ms <= m.cycle_ms:
            yield ctx.find("IF011", f"timeout_ms {_fmt(m.timeout_ms)} is not longer than"
                           f" cycle_ms {_fmt(m.cycle_ms)}", o, m.id, at=o.at("timeout_ms"),
                           hint="a receiver times out after several missed cycles, e.g."
                           f" {_fmt(m.cycle_ms * 3)}")
        # A position is worked out only for a finding (it may mean reading the file).
        named: list[tuple[str, str, tuple[str | int, ...]]] = (
            [("sender", m.sender, ("sender",))] if m.sender else [])
        named += [("receivers", r, ("receivers", i)) for i, r in enumerate(m.receivers)]
        for field_, node_id, steps in named:
            target = ctx.index.get(node_id)
            if not isinstance(target, Node):
                what = f"a {target.KIND}" if target else "no node"
                yield ctx.find("IF012", f"{field_} names {node_id!r}, which is {what}", o, m.id,
                               at=o.at(*steps), missing=target is None, hint=did_you_mean(node_id, [
                                   k for k, v in ctx.index.items() if isinstance(v, Node)]))
        signal_ids = {s.id for s in m.signals}
        if m.e2e is not None:
            for key in ("counter", "checksum"):
                ref = getattr(m.e2e, key)
                if ref is not None and ref not in signal_ids:
                    yield ctx.find("IF017", f"e2e {key} {ref!r} is not a signal of {m.id}",
                                   m.e2e.origin, m.id, at=m.e2e.origin.at(key),
                                   hint=did_you_mean(ref, signal_ids))
        yield from _layout(ctx, m)


def _layout(ctx: Context, m: Message) -> Iterator[Diagnostic]:
    owner: dict[int, Signal] = {}
    names: dict[str, Signal] = {}
    for s in m.signals:
        if s.name is not None:
            first_named = names.setdefault(s.name, s)
            if first_named is not s:
                yield ctx.find("IF018", f"the signal name {s.name!r} is already used in {m.id}"
                               f" by {first_named.id}", s.origin, s.id, at=s.origin.at("name"))
        clash: Signal | None = None
        shared: list[int] = []
        for b in bits(s):
            other = owner.get(b)
            if other is not None and other is not s:
                clash = clash or other
                shared.append(b)
            else:
                owner[b] = s
        if clash is not None:
            yield ctx.find("IF007", f"bits {min(shared)}…{max(shared)} overlap the signal"
                           f" {clash.id}", s.origin, s.id, at=s.origin.at("start_bit"),
                           hint="move one of them; see the message layout")


def value_tables(ctx: PartContext) -> Iterator[Diagnostic]:
    """Values that appear twice in a value table (IF008), in one part."""
    if ctx.kind != "interface":
        return
    for obj, _ in descendants(ctx.part):
        if not isinstance(obj, ValueTable):
            continue
        seen: dict[int, str | None] = {}
        for entry in obj.entries:
            if entry.value is None:
                continue
            if entry.value in seen:
                yield ctx.find("IF008", f"the value {entry.value} appears twice"
                               f" ({seen[entry.value]} and {entry.name})", entry.origin, obj.id,
                               at=entry.origin.at("value"))
            else:
                seen[entry.value] = entry.name


CHECKS = (signals, messages)
PART_CHECKS = (value_tables,)
