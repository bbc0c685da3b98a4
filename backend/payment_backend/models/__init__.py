"""SQLAlchemy models, a module per aggregate."""

from payment_backend.models.audit import AuditEntry, IdempotencyKey
from payment_backend.models.base import Base
from payment_backend.models.catalog import Product
from payment_backend.models.intents import GatewayIntent
from payment_backend.models.orders import Order, SurplusPayment
from payment_backend.models.outbox import DeliveryCircuit, OutboxJob
from payment_backend.models.payments import Payment, PaymentCancel
from payment_backend.models.subscriptions import (
    ChargeAttempt,
    Plan,
    Reservation,
    Subscription,
    SubscriptionCharge,
    TestClockOffset,
)
from payment_backend.models.webhooks import DeliveryAttempt, InboundWebhook, WebhookDelivery

__all__ = [
    "AuditEntry",
    "Base",
    "ChargeAttempt",
    "DeliveryAttempt",
    "DeliveryCircuit",
    "GatewayIntent",
    "IdempotencyKey",
    "InboundWebhook",
    "Order",
    "OutboxJob",
    "Payment",
    "PaymentCancel",
    "Plan",
    "Product",
    "Reservation",
    "Subscription",
    "SubscriptionCharge",
    "SurplusPayment",
    "TestClockOffset",
    "WebhookDelivery",
]
