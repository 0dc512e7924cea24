"""An event-sourced billing ledger for license-based subscriptions."""
