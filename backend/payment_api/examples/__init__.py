"""Runnable examples of the payment service client, mirroring the seed's example scenarios.

    register_card_payment   pay by card at PortOne, register it, read it back
    partial_refund          a Toss payment confirmed by the service, refunded in parts
    listen_for_deposit      a virtual account, the deposit, the service's signed webhook
                            (needs the worker running: `make run` starts one)
    register_billing_key    PortOne and Toss billing keys registered and read back

Each runs against a running backend and the fake gateways it uses (`make run`), e.g.

    PAYMENT_CONNECTION_ENCRYPTION_KEY=... PAYMENT_CONNECTION_ENCRYPTION_IV=... \
        python -m payment_api.examples.register_card_payment

Settings come from the environment (see payment_api.examples.environment); in local mode the
backend's generated key, IV and webhook signing secret are in its instance folder's
dev-secrets.json (PAYMENT_INSTANCE_PATH, default backend/instance), which is read when they are
not set.
"""
