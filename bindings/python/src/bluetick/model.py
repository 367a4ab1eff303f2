"""The values the API passes around: enums of the header's constants, and plain data
copied out of the library (no native memory behind any of them)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import NamedTuple, Union


class MessageStatus(enum.IntEnum):
    """The status of an outgoing message (``BT_MESSAGE_*``); it only moves forward."""

    PENDING = 0
    """Encrypted, not yet acknowledged by the relay."""
    SENT = 1
    """The relay acknowledged it (one grey tick)."""
    DELIVERED = 2
    """A delivery receipt arrived (two grey ticks)."""
    READ = 3
    """A read receipt arrived (two blue ticks)."""


class ReceiptKind(enum.IntEnum):
    """A receipt kind (``BT_RECEIPT_*``). Deniable kinds are authenticated by the session
    alone, without a signature a third party could check."""

    DELIVERED = 1
    READ = 2
    DENIABLE_DELIVERED = 129
    DENIABLE_READ = 130

    @property
    def deniable(self) -> bool:
        return self in (ReceiptKind.DENIABLE_DELIVERED, ReceiptKind.DENIABLE_READ)

    @property
    def status(self) -> MessageStatus:
        """The status a receipt of this kind moves a message to."""
        if self in (ReceiptKind.READ, ReceiptKind.DENIABLE_READ):
            return MessageStatus.READ
        return MessageStatus.DELIVERED


class ContentType(enum.IntEnum):
    """The content type of a plaintext (``BT_CONTENT_*``), for the protocol layer."""

    APPLICATION = 1
    RECEIPT = 2


class Sent(NamedTuple):
    """An encrypted outgoing message: its id and the wire bytes for the relay."""

    id: bytes
    wire: bytes


@dataclass(frozen=True)
class AccountConfig:
    """How many prekeys an account keeps published (``bt_account_config``)."""

    one_time_prekeys: int = 50
    one_time_pq_prekeys: int = 50
    low_water_mark: int = 10


@dataclass(frozen=True)
class PrekeyCounts:
    """How many one-time prekeys the account still holds, and whether to replenish."""

    one_time_prekeys: int
    one_time_pq_prekeys: int
    low: bool


@dataclass(frozen=True)
class Message:
    """An application message, now in the account's inbox until acknowledged."""

    id: bytes
    """The message id: acknowledge it, and put it in receipts."""
    user: bytes
    """The sender's user id (as passed to ``decrypt``)."""
    device: int
    """The sender's device."""
    sender: bytes = field(repr=False)
    """The sender's identity key (32 bytes)."""
    body: bytes = field(repr=False)
    replenish_prekeys: bool = False
    """One-time prekeys ran low: call ``Account.replenish_prekeys`` and upload."""


@dataclass(frozen=True)
class Receipt:
    """A receipt, already applied to the statuses it names."""

    id: bytes
    """The id of the receipt's own wire message."""
    user: bytes
    device: int
    sender: bytes = field(repr=False)
    kind: ReceiptKind = ReceiptKind.DELIVERED
    timestamp_ms: int = 0
    """The sender's clock when it made the receipt (ms since the Unix epoch)."""
    updates: list[tuple[bytes, MessageStatus]] = field(default_factory=list)
    """The messages whose status moved forward: (id, new status). Empty for a receipt
    that arrived late or twice."""
    replenish_prekeys: bool = False


Incoming = Union[Message, Receipt]


@dataclass(frozen=True)
class InboxEntry:
    """A received message not yet acknowledged."""

    id: bytes
    user: bytes
    device: int
    body: bytes = field(repr=False)


@dataclass(frozen=True)
class Decrypted:
    """What ``Session.decrypt`` received (protocol layer)."""

    content_type: ContentType
    body: bytes = field(repr=False)
    sender: bytes = field(repr=False)
    """The sender's identity key (32 bytes)."""
    randomness_used: int = 0
    """How many bytes of the scripted randomness the call consumed (0 or 32)."""


@dataclass(frozen=True)
class VerifiedReceipt:
    """A receipt body that verified (protocol layer)."""

    kind: ReceiptKind
    timestamp_ms: int
