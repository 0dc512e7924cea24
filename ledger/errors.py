"""The ledger's exceptions: one hierarchy, each naming what was wrong.

Every command checks its input before anything is recorded, so a command that raises one of
these has appended nothing. Each value's bounds are in :mod:`ledger.bounds`.

    LedgerError
    +-- InvalidInput (ValueError)          bad values: quantities, dates, offers, accounts
    |   +-- InvalidQuantity
    |   +-- InvalidOffer
    |   +-- InvalidAccount
    |   +-- InvalidPayment                 an amount, its places, an account without a currency
    |   +-- InvalidClockTime
    |   +-- EffectiveDateOutOfOrder
    |   +-- EffectiveDateInFuture
    |   +-- NothingToChange
    +-- NotFound (LookupError)             unknown subscription, offer, account, invoice, line
    |   +-- UnknownSubscription, UnknownOffer, UnknownAccount, UnknownInvoice, UnknownLine,
    |   +-- MissingDatabase
    +-- AlreadyExists                      a second purchase or account under a taken key
    |   +-- DuplicateSubscription, DuplicateAccount
    +-- InvalidTransition                  the subscription's state forbids the action
    |   +-- AlreadySuspended, NotSuspended, SubscriptionSuspended, SubscriptionEnded,
    |   +-- TrialCannotBeCancelled, NotATrial, OnlineCancellationRefused
    +-- ConcurrencyConflict                the command kept losing races; nothing was recorded
    +-- IdempotencyConflict                a key reused with a different payload
    +-- StoreError                         the database itself failed
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


class NothingToChange(InvalidInput):
    """The command would leave the subscription exactly as it is."""


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


class ConcurrencyConflict(LedgerError):
    """Other writers kept changing the same aggregates; the command gave up."""


class IdempotencyConflict(LedgerError):
    """An idempotency key was reused for a different command or payload."""


class StoreError(LedgerError):
    """The database failed (unreachable, locked too long, corrupt); the library's error is
    chained as the cause."""
