"""The domain: verification, refunds, webhooks, reconciliation."""
