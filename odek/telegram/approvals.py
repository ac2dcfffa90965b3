"""Approvals in the chat: a tool call whose policy action is ``prompt`` asks the user.

:meth:`ApprovalBroker.approver` gives a chat turn its :class:`TelegramApprover`, bound to
the chat and to the user whose message started the turn. Its question is a message with
two buttons, ``✅ Approve`` (callback data ``apr:<id>``) and ``❌ Deny`` (``den:<id>``).
Only that user's press counts; anyone else's is answered "not yours" and changes nothing.
No answer within ``timeout`` seconds (120) denies. Cancelling the turn (``/stop``, a
restart) withdraws the question. Each outcome is written into the question message, whose
buttons are then removed.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

import anyio

from odek.logs import get_logger
from odek.telegram.sender import ChatSender, keyboard

__all__ = ["APPROVAL_TIMEOUT", "ApprovalBroker", "TelegramApprover"]

APPROVAL_TIMEOUT = 120.0
_MAX_DETAIL = 3000

log = get_logger("odek.telegram")


@dataclass
class _Pending:
    chat_id: int
    user_id: int
    text: str
    message_id: int = 0
    answered: anyio.Event = field(default_factory=anyio.Event)
    approved: bool = False


class ApprovalBroker:
    """The questions waiting for a button press, by id; routes presses to them."""

    def __init__(self, sender: ChatSender, *, timeout: float = APPROVAL_TIMEOUT) -> None:
        self.sender = sender
        self.timeout = timeout
        self._pending: dict[str, _Pending] = {}

    def approver(self, chat_id: int, user_id: int) -> TelegramApprover:
        """The approver of one turn started by ``user_id`` in ``chat_id``."""
        return TelegramApprover(self, chat_id, user_id)

    @property
    def pending(self) -> int:
        """How many questions are waiting."""
        return len(self._pending)

    @staticmethod
    def handles(data: str) -> bool:
        """Whether callback ``data`` belongs to an approval button."""
        return data.startswith(("apr:", "den:"))

    async def on_press(self, data: str, user_id: int) -> str:
        """Handle a press of ``apr:<id>`` / ``den:<id>`` by ``user_id``; returns the toast."""
        verb, _, key = data.partition(":")
        pending = self._pending.get(key)
        if pending is None or pending.answered.is_set():
            return "This question is no longer open."
        if user_id != pending.user_id:
            log.info("approval_press_ignored", chat_id=pending.chat_id, user_id=user_id)
            return "Only the user who started this run can answer."
        pending.approved = verb == "apr"
        pending.answered.set()
        return "Approved" if pending.approved else "Denied"

    async def ask(self, chat_id: int, user_id: int, *, tool: str, risk: str, detail: str) -> bool:
        """Ask in the chat and wait for the answer, at most ``timeout`` seconds."""
        key = secrets.token_hex(6)
        shown = detail if len(detail) <= _MAX_DETAIL else detail[:_MAX_DETAIL] + "…"
        fence = "````" if "```" in shown else "```"
        text = (
            f"⚠️ **Approval required**\n\nTool: `{tool}` · risk: `{risk}`\n{fence}\n{shown}\n{fence}"
        )
        pending = self._pending[key] = _Pending(chat_id, user_id, text)
        outcome = "⏹ Withdrawn: the run was stopped."
        try:
            ids = await self.sender.send(
                chat_id,
                text,
                buttons=keyboard([[("✅ Approve", f"apr:{key}"), ("❌ Deny", f"den:{key}")]]),
            )
            if not ids:
                outcome = ""
                return False  # nobody can answer a question that was never shown
            pending.message_id = ids[-1]
            with anyio.move_on_after(self.timeout):
                await pending.answered.wait()
            if not pending.answered.is_set():
                minutes = (
                    f"{self.timeout / 60:g} minutes"
                    if self.timeout >= 60
                    else (f"{self.timeout:g} s")
                )
                outcome = f"⌛ No answer within {minutes}: denied."
                log.info("approval_timeout", chat_id=chat_id, tool=tool, risk=risk)
                return False
            outcome = "✅ Approved." if pending.approved else "❌ Denied."
            log.info("approval_answered", chat_id=chat_id, tool=tool, approved=pending.approved)
            return pending.approved
        finally:
            pending.answered.set()
            del self._pending[key]
            if outcome and pending.message_id:
                with anyio.move_on_after(10, shield=True):
                    await self.sender.edit(chat_id, pending.message_id, f"{text}\n\n{outcome}")


class TelegramApprover:
    """The :class:`odek.protocols.Approver` of one chat turn (see the module docstring)."""

    def __init__(self, broker: ApprovalBroker, chat_id: int, user_id: int) -> None:
        self.broker = broker
        self.chat_id = chat_id
        self.user_id = user_id

    async def approve(self, *, tool: str, risk: str, detail: str) -> bool:
        """Ask the turn's user in the chat; ``True`` only for their Approve press."""
        return await self.broker.ask(
            self.chat_id, self.user_id, tool=tool, risk=risk, detail=detail
        )
