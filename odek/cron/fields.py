"""The five cron fields and the parser for one field's text.

A field is a comma-separated list of items. Each item is one of ``*``, ``*/n``, ``v``,
``a-b``, ``a-b/n`` or ``a/n`` (which means ``a-max/n``, for every ``n`` including 1).
Values are decimal numbers, or three-letter month and weekday names (any case) in the
month and day-of-week fields; names and numbers mix freely (``MON-5``).

A parsed field is a bitmask: bit ``v`` is set when value ``v`` is chosen.
"""

from __future__ import annotations

from dataclasses import dataclass

from odek.errors import CronError

__all__ = [
    "DAY_OF_MONTH",
    "DAY_OF_WEEK",
    "FIELDS",
    "HOUR",
    "MINUTE",
    "MONTH",
    "FieldSpec",
    "mask_values",
    "parse_field",
]


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """What one field accepts: its name in messages, its range and its value names."""

    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    name_base: int = 0  # the value that names[0] stands for

    def value_names(self) -> dict[str, int]:
        """Upper-case name -> value."""
        return {name.upper(): self.name_base + i for i, name in enumerate(self.names)}


MINUTE = FieldSpec("minute", 0, 59)
HOUR = FieldSpec("hour", 0, 23)
DAY_OF_MONTH = FieldSpec("day-of-month", 1, 31)
MONTH = FieldSpec(
    "month",
    1,
    12,
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
    1,
)
# 7 is accepted as a second Sunday and folded to 0 after parsing.
DAY_OF_WEEK = FieldSpec("day-of-week", 0, 7, ("sun", "mon", "tue", "wed", "thu", "fri", "sat"))

#: The fields in expression order.
FIELDS: tuple[FieldSpec, ...] = (MINUTE, HOUR, DAY_OF_MONTH, MONTH, DAY_OF_WEEK)

_NAME_TABLES: dict[str, dict[str, int]] = {spec.name: spec.value_names() for spec in FIELDS}
_SUNDAY_AGAIN = 1 << 7


def mask_values(mask: int) -> tuple[int, ...]:
    """The values whose bits are set in ``mask``, ascending."""
    return tuple(value for value in range(mask.bit_length()) if mask >> value & 1)


def _fail(spec: FieldSpec, expr: str, item: str, what: str) -> CronError:
    return CronError(
        f'cron: {spec.name}: {what} (in "{item}")', expr=expr, field=spec.name, item=item
    )


def _value(spec: FieldSpec, expr: str, item: str, token: str, role: str) -> int:
    if token == "":
        raise _fail(spec, expr, item, f"missing {role}")
    if token.isascii() and token.isdigit():
        number = int(token)
        if not spec.low <= number <= spec.high:
            raise _fail(spec, expr, item, f"{number} is out of range {spec.low}-{spec.high}")
        return number
    named = _NAME_TABLES[spec.name].get(token.upper())
    if named is not None:
        return named
    if spec.names:
        kind = "a month name" if spec is MONTH else "a day name"
        expected = f"a number or {kind} ({spec.names[0]}-{spec.names[-1]})"
    else:
        expected = "a number"
    raise _fail(spec, expr, item, f'"{token}" is not {expected}')


def _step(spec: FieldSpec, expr: str, item: str, token: str) -> int:
    if token == "":
        raise _fail(spec, expr, item, "missing step after '/'")
    if not (token.isascii() and token.isdigit()) or int(token) == 0:
        raise _fail(spec, expr, item, f'step "{token}" is not a whole number of at least 1')
    return int(token)


def _stride(start: int, end: int, step: int) -> int:
    """The mask of ``range(start, end + 1, step)``, without a loop: the bits of ``count``
    values ``step`` apart sum to the geometric series ``(2**(count*step) - 1) / (2**step - 1)``."""
    if step > end - start:
        return 1 << start
    count = (end - start) // step + 1
    return ((1 << count * step) - 1) // ((1 << step) - 1) << start


def _item_mask(spec: FieldSpec, expr: str, item: str) -> int:
    body, slash, step_text = item.partition("/")
    step = _step(spec, expr, item, step_text) if slash else 1
    if body == "*":
        return _stride(spec.low, spec.high, step)
    if "*" in body:
        raise _fail(spec, expr, item, '"*" must stand alone or as "*/n"')
    start_text, dash, end_text = body.partition("-")
    start = _value(spec, expr, item, start_text, "start of range" if dash else "value")
    if dash:
        end = _value(spec, expr, item, end_text, "end of range")
        if end < start:
            raise _fail(spec, expr, item, f"range start {start} is after its end {end}")
    elif slash:
        end = spec.high  # "a/n" means "a-max/n", whatever n is
    else:
        return 1 << start
    return _stride(start, end, step)


def _fold_sunday(spec: FieldSpec, mask: int) -> int:
    if spec is DAY_OF_WEEK and mask & _SUNDAY_AGAIN:
        return mask & ~_SUNDAY_AGAIN | 1
    return mask


def _parse_items(spec: FieldSpec, text: str, expr: str) -> int:
    mask = 0
    for item in text.split(","):
        if item == "":
            raise CronError(
                f'cron: {spec.name}: empty item (in "{text}")',
                expr=expr,
                field=spec.name,
                item=text,
            )
        mask |= _item_mask(spec, expr, item)
    return _fold_sunday(spec, mask)


# The commonest field text, parsed once.
_EVERY = {spec.name: _parse_items(spec, "*", "*") for spec in FIELDS}


def parse_field(spec: FieldSpec, text: str, expr: str) -> int:
    """Parse one field's ``text`` (of expression ``expr``, for messages) into its mask
    (day-of-week 7 folded to 0).

    Raises :class:`~odek.errors.CronError` naming the field and the failing item.
    """
    if text == "*":
        return _EVERY[spec.name]
    if text.isascii() and text.isdigit():
        # A single number, the commonest case after "*": no items, ranges or steps. One
        # out of range is left to the general parser, which words the error.
        value = int(text)
        if spec.low <= value <= spec.high:
            return 1 if value == 7 and spec is DAY_OF_WEEK else 1 << value
    return _parse_items(spec, text, expr)
