"""When an exemption counts: one definition, used by the pack (which honours exemptions
and reports broken ones as MLP-GOV-001) and by the runner (which lists honoured ones)."""

from __future__ import annotations

import datetime
from typing import Any, Mapping, Optional


def exemption_problem(exemption: Mapping[str, Any], on: datetime.date) -> Optional[str]:
    """Why an exemption cannot be honoured on ``on``, or None when it can.

    It needs a reason, an approver and an expiry date that has not passed (an exemption
    expiring today still holds today).
    """
    if not str(exemption.get("reason") or "").strip():
        return "has no reason"
    if not str(exemption.get("approvedBy") or "").strip():
        return "has no approver"
    try:
        expires = datetime.date.fromisoformat(str(exemption.get("expires")))
    except ValueError:
        return f"has an invalid expiry {exemption.get('expires')!r}"
    if expires < on:
        return f"expired on {expires.isoformat()}"
    return None
