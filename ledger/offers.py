"""The catalog's terms for an offer: price per license per term, currency, term, billing
frequency and rating convention.

A subscription copies these terms into its purchase (and renewal) events, so that rating an
old subscription never depends on what the catalog says today.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal
from enum import Enum
from typing import Any, ClassVar

from ledger import bounds
from ledger.errors import InvalidOffer
from ledger.money import Rounding, is_currency_code, parse_decimal

#: The terms a subscription can run for (ISO 8601 durations).
TERMS = ("P1Y", "P1M")


class BillingFrequency(Enum):
    """``annual``: the term is charged up front. ``monthly``: month by month."""

    ANNUAL = "annual"
    MONTHLY = "monthly"


class Convention(Enum):
    """How a partial service period is rated (see ``ledger.rating``)."""

    DAILY_RATE = "daily-rate"
    EXACT = "exact"


DEFAULT_DAILY_RATE_PLACES = 2
DEFAULT_REFUND_WINDOW_DAYS = 30


@dataclass(frozen=True)
class OfferTerms:
    """An offer's commercial terms, as they stood when a subscription bought or renewed it.

    Stored in events: a change of fields bumps ``class_version`` and adds an upcaster
    (``ledger.transcodings.DataclassAsDict``)."""

    class_version: ClassVar[int] = 1

    offer_id: str
    name: str
    price: Decimal
    currency: str
    term: str
    billing: BillingFrequency
    convention: Convention
    daily_rate_places: int = DEFAULT_DAILY_RATE_PLACES
    refund_window_days: int = DEFAULT_REFUND_WINDOW_DAYS
    rounding: Rounding = Rounding.HALF_UP

    @classmethod
    def create(
        cls,
        offer_id: str,
        *,
        price: object,
        currency: str,
        term: str,
        billing: str | BillingFrequency,
        convention: str | Convention,
        name: str | None = None,
        daily_rate_places: int | None = None,
        refund_window_days: int | None = None,
        rounding: str | Rounding = Rounding.HALF_UP,
    ) -> OfferTerms:
        """Validated terms; :class:`~ledger.errors.InvalidOffer` names the field at fault.
        The bounds (:mod:`ledger.bounds`): the offer id is an id, the name 1-200 printable
        characters, the price 0 to 1,000,000,000 with at most the currency's places,
        ``daily_rate_places`` 0-10, ``refund_window_days`` 0-366."""
        bounds.identifier(offer_id, "offer id", InvalidOffer)
        where = f"offer {offer_id!r}"
        try:
            amount = parse_decimal(price, f"{where}: price")
        except ValueError as error:
            raise InvalidOffer(str(error)) from None
        if not is_currency_code(currency):
            raise InvalidOffer(f"{where}: currency must be an ISO 4217 code such as USD, "
                               f"got {bounds.shown(currency)}")
        amount = bounds.price(amount, currency, f"{where}: price", InvalidOffer)
        if not isinstance(term, str) or term not in TERMS:
            raise InvalidOffer(f"{where}: term must be one of {', '.join(TERMS)}, "
                               f"got {bounds.shown(term)}")
        billing_frequency = _enum(BillingFrequency, billing, f"{where}: billing")
        rating_convention = _enum(Convention, convention, f"{where}: convention")
        if billing_frequency is BillingFrequency.ANNUAL and term != "P1Y":
            raise InvalidOffer(f"{where}: annual billing needs a P1Y term, got {term}")
        places = DEFAULT_DAILY_RATE_PLACES if daily_rate_places is None else daily_rate_places
        places = bounds.whole(places, f"{where}: daily_rate_places", 0,
                              bounds.DAILY_RATE_PLACES_MAX, InvalidOffer)
        window = DEFAULT_REFUND_WINDOW_DAYS if refund_window_days is None else refund_window_days
        window = bounds.whole(window, f"{where}: refund_window_days", 0,
                              bounds.REFUND_WINDOW_DAYS_MAX, InvalidOffer)
        return cls(
            offer_id=offer_id,
            name=bounds.name(name, f"{where}: name", InvalidOffer) if name else offer_id,
            price=amount,
            currency=currency,
            term=term,
            billing=billing_frequency,
            convention=rating_convention,
            daily_rate_places=places,
            refund_window_days=window,
            rounding=_enum(Rounding, rounding, f"{where}: rounding"),
        )

    @classmethod
    def checked(cls, terms: object) -> OfferTerms:
        """``terms`` (built directly rather than by :meth:`create`) checked against the same
        bounds; :class:`~ledger.errors.InvalidOffer` if any field is out of them."""
        if not isinstance(terms, OfferTerms):
            raise InvalidOffer(f"offer terms must be OfferTerms (see OfferTerms.create), "
                               f"got {bounds.shown(terms)}")
        valid = OfferTerms.create(
            terms.offer_id, price=terms.price, currency=terms.currency, term=terms.term,
            billing=terms.billing, convention=terms.convention, name=terms.name,
            daily_rate_places=terms.daily_rate_places,
            refund_window_days=terms.refund_window_days, rounding=terms.rounding,
        )
        # Terms already valid are kept as given (a later version's subclass stays itself).
        same = all(getattr(valid, f.name) == getattr(terms, f.name) for f in fields(OfferTerms))
        return terms if same else valid

    @property
    def months_per_term(self) -> int:
        return 12 if self.term == "P1Y" else 1

    @property
    def billing_cycle_type(self) -> str:
        """Partner Center's ``BillingCycleType`` column value."""
        return "Annual" if self.billing is BillingFrequency.ANNUAL else "Monthly"

    def __deepcopy__(self, memo: dict[int, object]) -> OfferTerms:
        return self  # immutable: aggregates cached by the repository share it safely


def _enum(kind: type[Any], value: object, what: str) -> Any:
    try:
        return kind(value)
    except (ValueError, TypeError):
        choices = ", ".join(member.value for member in kind)
        raise InvalidOffer(f"{what} must be one of {choices}, got {bounds.shown(value)}") from None


def renewal_terms(current: OfferTerms, catalog: OfferTerms | None) -> OfferTerms:
    """The terms a subscription renews on, given its current terms and the catalog's.

    A renewal takes the catalog's terms of the day: a revised price, rating convention,
    rounding, refund window, term length or billing frequency apply from the renewal on (the
    renewed term then runs from the renewal date for the new length). Two things keep the
    subscription's own terms: an offer no longer in the catalog, and a catalog currency that
    differs from the subscription's (the ledger refuses such a revision, but a ledger may
    hold one recorded by an older version; an account is billed in one currency).
    """
    if catalog is None or catalog.currency != current.currency:
        return current
    return catalog
