"""The ledger's exceptions: one hierarchy, each naming what was wrong.

Every command checks its input before anything is recorded, so a command that raises one of
these has appended nothing (a billing run that stops part-way, BillingRunIncomplete, keeps
the billing dates it cut before, each of them whole). Each value's bounds are in
:mod:`ledger.bounds`.

    LedgerError
    +-- InvalidInput (ValueError)          bad values: quantities, dates, offers, accounts
    |   +-- InvalidQuantity
    |   +-- InvalidOffer
    |   +-- InvalidAccount
    |   +-- InvalidPayment                 an amount, its places, an account without a currency
    |   +-- InvalidClockTime
    |   +-- EffectiveDateOutOfOrder
    |   +-- EffectiveDateInFuture
    |   +-- EffectiveDateTooOld
    |   +-- NothingToChange
    |   +-- InvalidOutputPath              a file name that would leave --out, or an unwritable --out
    +-- NotFound (LookupError)             unknown subscription, offer, account, invoice, line
    |   +-- UnknownSubscription, UnknownOffer, UnknownAccount, UnknownInvoice, UnknownLine,
    |   +-- MissingDatabase
    |   +-- NotALedger                     a file or schema without the ledger's tables
    +-- AlreadyExists                      a second purchase or account under a taken key
    |   +-- DuplicateSubscription, DuplicateAccount
    +-- InvalidTransition                  the subscription's state forbids the action
    |   +-- AlreadySuspended, NotSuspended, SubscriptionSuspended, SubscriptionEnded,
    |   +-- TrialCannotBeCancelled, NotATrial, OnlineCancellationRefused, DateAlreadyCut
    +-- ConcurrencyConflict                the command kept losing races; nothing was recorded
    +-- IdempotencyConflict                a key reused with a different payload
    +-- BillingRunIncomplete               a billing run stopped at one account (names it and
    |                                      the cause; what it issued before stands)
    +-- StoreError                         the database itself failed
        +-- LogAltered                     the log's seals show it was altered; nothing recorded
        +-- UnreadableValue                a stored value of an unknown version or shape
"""

from __future__ import annotations


class LedgerError(Exception):
    """Base class of every error the ledger raises on purpose."""


class InvalidInput(LedgerError, ValueError):
    """A value given to a command is not acceptable."""


class InvalidQuantity(InvalidInput):
    pass


class InvalidOffer(InvalidInput):
    pass


class InvalidAccount(InvalidInput):
    pass


class InvalidPayment(InvalidInput):
    """A payment's amount is out of bounds, has more places than the account's currency,
    or the account's currency is not known yet."""


class InvalidClockTime(InvalidInput):
    pass


class EffectiveDateOutOfOrder(InvalidInput):
    """An action dated before an action already recorded for the same subscription."""


class EffectiveDateInFuture(InvalidInput):
    """An action dated after the clock's business date."""


class EffectiveDateTooOld(InvalidInput):
    """An action dated more than a year (``subscription.MAX_BACKDATE_DAYS``) before the
    subscription's last billing date."""


class NothingToChange(InvalidInput):
    """The command would leave the subscription exactly as it is."""


class InvalidOutputPath(InvalidInput):
    """An output folder that cannot be written, or a file name derived from an id that
    would climb out of it or exceed the file system's limit; nothing was written."""


class NotFound(LedgerError, LookupError):
    pass


class UnknownSubscription(NotFound):
    pass


class UnknownOffer(NotFound):
    pass


class UnknownAccount(NotFound):
    pass


class UnknownInvoice(NotFound):
    pass


class UnknownLine(NotFound):
    pass


class MissingDatabase(NotFound):
    """No ledger database exists at the given location."""


class NotALedger(NotFound):
    """The location exists but holds no billing ledger (another application's SQLite file,
    an empty PostgreSQL schema); nothing was created in it."""


class AlreadyExists(LedgerError):
    pass


class DuplicateSubscription(AlreadyExists):
    pass


class DuplicateAccount(AlreadyExists):
    pass


class InvalidTransition(LedgerError):
    """The subscription's current state does not allow this action."""


class AlreadySuspended(InvalidTransition):
    pass


class NotSuspended(InvalidTransition):
    pass


class SubscriptionSuspended(InvalidTransition):
    pass


class SubscriptionEnded(InvalidTransition):
    pass


class TrialCannotBeCancelled(InvalidTransition):
    pass


class NotATrial(InvalidTransition):
    pass


class OnlineCancellationRefused(InvalidTransition):
    pass


class DateAlreadyCut(InvalidTransition):
    """A billing date another process cut first: the scheduler counts it as found done."""


class ConcurrencyConflict(LedgerError):
    """Other writers kept changing the same aggregates; the command gave up."""


class IdempotencyConflict(LedgerError):
    """An idempotency key was reused for a different command or payload."""


class BillingRunIncomplete(LedgerError):
    """A billing run stopped at one account. Every billing date cut before it stands (each
    cut is one atomic write), ``issued`` lists the invoices the run issued, and running it
    again completes it. The error that stopped it is the cause."""

    def __init__(self, account: str, cause: BaseException, issued: list[str] | None = None) -> None:
        self.account = account
        self.cause = cause
        self.issued = list(issued or [])
        super().__init__(self._message())

    def _message(self) -> str:
        done = (f"; issued before it: {', '.join(self.issued)}" if self.issued
                else "; nothing was issued")
        detail = " ".join(str(self.cause).split()) or type(self.cause).__name__
        return (f"the billing run stopped at account {self.account!r}: {detail}{done}; "
                "run it again to complete it")

    def with_issued(self, issued: list[str]) -> BillingRunIncomplete:
        return BillingRunIncomplete(self.account, self.cause, issued)


class StoreError(LedgerError):
    """The database failed (unreachable, locked too long, corrupt); the library's error is
    chained as the cause."""


class WorkerDied(LedgerError):
    """A worker process of a billing run died (killed, out of memory) part-way through an
    account; every date it cut stands, and the next run picks the account up."""


class LogAltered(StoreError):
    """The log's hash chain shows that recorded events were deleted or changed outside the
    ledger; the command recorded nothing. ``billing-ledger verify`` reports what and where."""


class UnreadableValue(StoreError):
    """A value stored in an event or snapshot is of a version, or has fields, this version
    of the ledger does not know (written by a newer version, or altered)."""
