"""Runnable examples of the payment service client, mirroring the seed's example scenarios.

Each runs against a running backend and the fake gateways it uses (`make run`), e.g.

    PAYMENT_CONNECTION_ENCRYPTION_KEY=... PAYMENT_CONNECTION_ENCRYPTION_IV=... \
        python -m payment_api.examples.register_card_payment

Settings come from the environment (see payment_api.examples.environment); in local mode the
backend's generated key and IV are in its instance folder's dev-secrets.json.
"""
