"""How money is written, once, for every report that shows it (cost text, Markdown, the
budget guard's messages, the ``mlp ci`` headline and summary): ``$1,286.69``, with a sign
when it is a change (``+$1,286.69``, ``-$12.50``), thousands separated, to the cent."""

from __future__ import annotations

from decimal import Decimal
from typing import Optional

#: what an amount without a price reads as: never a zero
UNKNOWN_AMOUNT = "UNKNOWN"


def usd(value: Optional[Decimal], signed: bool = False) -> str:
    """US dollars the one way mlp writes them; ``signed`` for a change (``+`` even at zero)."""
    if value is None:
        return UNKNOWN_AMOUNT
    text = f"${abs(value):,.2f}"
    if signed:
        return ("+" if value >= 0 else "-") + text
    return ("-" if value < 0 else "") + text
