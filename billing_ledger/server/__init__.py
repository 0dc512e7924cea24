"""``billing-ledger serve``: the JSON API and the audit pages over one ``Ledger``
(:mod:`billing_ledger.server.app`)."""
