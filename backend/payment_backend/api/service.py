"""The seed's service API for other backends: encrypted bodies, exactly as the seed's clients send them.

Requests and answers are Base64(AES-256-CBC(JSON)) as `text/plain`, with the connection key and
IV (PAYMENT_CONNECTION_ENCRYPTION_KEY / _IV); empty bodies stay empty; errors are plain JSON in the
usual envelope. On the mutating routes the same body within 24 h, or the same Idempotency-Key,
replays the first answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, request
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError

from payment_backend.crypto import DecryptionError, seed_cipher
from payment_backend.errors import ERRORS, ApiError, error_doc
from payment_backend.models import Payment, Reservation
from payment_backend.schemas.service import (
    CancelCreateSchema,
    HistoryCreateSchema,
    PasswordSchema,
    PaymentHistorySchema,
    PaymentReservationSchema,
    ReservationCreateSchema,
    SourceAccessorSchema,
)
from payment_backend.services import histories, reservations
from payment_backend.services.idempotency import fingerprint, replay_error, run_once
from payment_backend.services.ledger import payment_record

blp = Blueprint(
    "service",
    __name__,
    url_prefix="/payments/histories",
    description="The seed's service API: encrypted bodies (AES-256-CBC, PKCS#7, Base64, text/plain).",
)
reservations_blp = Blueprint(
    "service_reservations",
    __name__,
    url_prefix="/payments/reservations",
    description="The seed's billing keys (reservations): encrypted like the histories.",
)


def _encrypted_doc(
    request_schema: str, answer_status: int, answer_schema: str = "PaymentHistory"
) -> dict[str, Any]:
    """OpenAPI: the body is the ciphertext of the named schema's JSON, and so is the answer.

    The schema of the JSON inside is named in each media type's `x-encrypted-json`.
    """

    def ciphertext(name: str) -> dict[str, Any]:
        return {
            "schema": {"type": "string", "format": "byte"},
            "x-encrypted-json": {"$ref": f"#/components/schemas/{name}"},
        }

    return {
        "description": ENCRYPTION,
        "requestBody": {
            "required": True,
            "description": f"Base64(AES-256-CBC(JSON of {request_schema})), PKCS#7 padded",
            "content": {"text/plain": ciphertext(request_schema)},
        },
        "responses": {
            answer_status: {
                "description": f"Base64(AES-256-CBC(JSON of {answer_schema}))",
                "content": {"text/plain": ciphertext(answer_schema)},
            },
        },
    }


ENCRYPTION = (
    "Encrypted as the seed's clients do: the JSON body is encrypted with AES-256-CBC (PKCS#7 "
    "padding) under the connection key and IV (PAYMENT_CONNECTION_ENCRYPTION_KEY / _IV), then "
    "Base64-encoded and sent as text/plain; the answer likewise. `x-encrypted-json` names the "
    "schema of the JSON inside. Errors are plain JSON in the error envelope."
)
NOT_READABLE = error_doc(
    "UNSUPPORTED_CONTENT_TYPE",
    "DECRYPTION_FAILED",
    "VALIDATION_ERROR",
    description="Not text/plain, not decryptable, or not valid (plain JSON)",
)
# What a registration of a gateway record answers when the gateway or its record disagrees.
REFUSED = error_doc(
    "INVALID_PAYMENT_ID",
    "AMOUNT_MISMATCH",
    "CURRENCY_MISMATCH",
    "ORDER_MISMATCH",
    "PAYMENT_NOT_PAID",
    "PAYMENT_NOT_COMPLETED",
    "WEBHOOK_URL_NOT_ALLOWED",
    "IDEMPOTENCY_KEY_REUSED",
)
UNAVAILABLE = error_doc("GATEWAY_UNAVAILABLE")


def replayable(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a mutating route: its Idempotency-Key header is documented (see once)."""
    view.idempotent = True  # type: ignore[attr-defined]
    return view


def history(payment: Payment) -> dict[str, Any]:
    """The seed's IPaymentHistory of a payment, as answered."""
    return PaymentHistorySchema().dump(payment_record(payment))


def reservation(record: Reservation) -> dict[str, Any]:
    """The seed's IPaymentReservation of a billing key, as answered."""
    return PaymentReservationSchema().dump(reservations.view(record))


def decrypted(schema: Schema) -> dict[str, Any]:
    """The request body decrypted and validated (400 when it is neither)."""
    if "text/plain" not in (request.content_type or ""):
        raise ApiError(
            400, "UNSUPPORTED_CONTENT_TYPE", "The body must be encrypted and sent as text/plain."
        )
    try:
        body = seed_cipher().decrypt_json(request.get_data().strip())
    except DecryptionError as exc:
        raise ApiError(400, "DECRYPTION_FAILED", "Failed to decrypt the request body.") from exc
    if not isinstance(body, dict):
        raise ApiError(400, "VALIDATION_ERROR", "The request body must be a JSON object.")
    try:
        return schema.load(body)
    except ValidationError as exc:
        raise ApiError(
            400, "VALIDATION_ERROR", "The request is not valid.", errors=exc.messages
        ) from exc


def encrypted(status: int, body: dict[str, Any]) -> Response:
    """An answer: encrypted JSON on success, the plain error envelope otherwise."""
    if status >= 400:
        raise replay_error((status, body))
    return Response(seed_cipher().encrypt_json(body), status=status, mimetype="text/plain")


def once(data: dict[str, Any], handler) -> Response:
    """Run a mutating handler once per body (24 h) and per Idempotency-Key; encrypt its answer.

    The protocol has a static key and IV and no MAC, so a captured body can be sent again: the
    same decrypted body on the same route is the same request, whatever its Idempotency-Key
    (none, or another), and gets the first answer.
    """
    route = request.url_rule.rule if request.url_rule else request.path
    scope = f"service:{request.method} {route}"
    request_hash = fingerprint(scope, request.path, data)
    body_claim = (f"service-body:{request.method} {route}", request_hash)
    return encrypted(
        *run_once(
            scope,
            request.headers.get("Idempotency-Key"),
            request_hash,
            handler,
            identity=body_claim,
        )
    )


@blp.route("", methods=["POST"])
@blp.doc(**_encrypted_doc("HistoryCreate", 201))
@blp.alt_response(400, **NOT_READABLE)
@blp.alt_response(404, **error_doc("VENDOR_PAYMENT_NOT_FOUND"))
@blp.alt_response(409, **ERRORS)
@blp.alt_response(422, **REFUSED)
@blp.alt_response(502, **UNAVAILABLE)
@replayable
def create_history():
    """Verify a gateway payment and record it (201, as the seed answers).

    iamport: the payment is read and its merchant_uid, amount, currency and status checked; a
    charged payment for another amount is cancelled at the gateway and answered 422
    AMOUNT_MISMATCH. Toss: confirmed with the registered price. A virtual account waiting for its
    deposit is accepted with paid_at null. The same registration again returns the stored record.
    """
    data = decrypted(HistoryCreateSchema())

    def handler() -> tuple[int, dict[str, Any]]:
        payment, _created = histories.register(data)
        return 201, history(payment)

    return once(data, handler)


@blp.route("/get", methods=["PATCH"])
@blp.doc(**_encrypted_doc("SourceAccessor", 200))
@blp.alt_response(400, **NOT_READABLE)
@blp.alt_response(404, **error_doc("PAYMENT_HISTORY_NOT_FOUND"))
def get_history_by_source():
    """Read one record by the caller's source reference and its password."""
    data = decrypted(SourceAccessorSchema())
    payment = histories.find_by_source(data, data["password"])
    return encrypted(200, history(payment))


@blp.route("/cancel", methods=["PUT"])
@blp.doc(**_encrypted_doc("CancelCreate", 200))
@blp.alt_response(400, **NOT_READABLE)
@blp.alt_response(404, **error_doc("PAYMENT_HISTORY_NOT_FOUND"))
@blp.alt_response(409, **ERRORS)
@blp.alt_response(422, **ERRORS)
@blp.alt_response(502, **error_doc("GATEWAY_UNAVAILABLE", "REFUND_OUTCOME_UNKNOWN"))
@replayable
def cancel_history():
    """Refund part of a payment, or all that is left; never more (409 OVER_REFUND)."""
    data = decrypted(CancelCreateSchema())
    return once(data, lambda: (200, history(histories.cancel(data))))


@blp.route("/<history_id>", methods=["PATCH"])
@blp.doc(**_encrypted_doc("Password", 200))
@blp.alt_response(400, **NOT_READABLE)
@blp.alt_response(404, **error_doc("PAYMENT_HISTORY_NOT_FOUND"))
def get_history(history_id: str):
    """Read one record by its id and its password."""
    data = decrypted(PasswordSchema())
    return encrypted(200, history(histories.find_by_id(history_id, data["password"])))


@reservations_blp.route("", methods=["POST"])
@reservations_blp.doc(**_encrypted_doc("ReservationCreate", 201, "PaymentReservation"))
@reservations_blp.alt_response(400, **NOT_READABLE)
@reservations_blp.alt_response(404, **error_doc("VENDOR_RESERVATION_NOT_FOUND"))
@reservations_blp.alt_response(409, **ERRORS)
@reservations_blp.alt_response(422, **ERRORS)
@reservations_blp.alt_response(502, **UNAVAILABLE)
@replayable
def create_reservation():
    """Read a billing key from its gateway and record it, sealed (201, as the seed answers).

    iamport: vendor.uid is the customer_uid. Toss: vendor.uid is the billing key (or the
    billing window's authKey) of the customerKey source.id. The same registration again returns
    the stored record; another one for the same source or key is 409 ALREADY_REGISTERED.
    """
    data = decrypted(ReservationCreateSchema())

    def handler() -> tuple[int, dict[str, Any]]:
        record, _created = reservations.register(data)
        return 201, reservation(record)

    return once(data, handler)


@reservations_blp.route("/get", methods=["PATCH"])
@reservations_blp.doc(**_encrypted_doc("SourceAccessor", 200, "PaymentReservation"))
@reservations_blp.alt_response(400, **NOT_READABLE)
@reservations_blp.alt_response(404, **error_doc("RESERVATION_NOT_FOUND"))
def get_reservation_by_source():
    """Read one billing key by the caller's source reference and its password."""
    data = decrypted(SourceAccessorSchema())
    return encrypted(200, reservation(reservations.find_by_source(data, data["password"])))


@reservations_blp.route("/<reservation_id>", methods=["PATCH"])
@reservations_blp.doc(**_encrypted_doc("Password", 200, "PaymentReservation"))
@reservations_blp.alt_response(400, **NOT_READABLE)
@reservations_blp.alt_response(404, **error_doc("RESERVATION_NOT_FOUND"))
def get_reservation(reservation_id: str):
    """Read one billing key by its id and its password."""
    data = decrypted(PasswordSchema())
    return encrypted(200, reservation(reservations.find_by_id(reservation_id, data["password"])))


def register_schemas(spec) -> None:
    """Name the decrypted bodies in the OpenAPI document."""
    for name, schema in (
        ("HistoryCreate", HistoryCreateSchema),
        ("SourceAccessor", SourceAccessorSchema),
        ("Password", PasswordSchema),
        ("CancelCreate", CancelCreateSchema),
        ("PaymentHistory", PaymentHistorySchema),
        ("ReservationCreate", ReservationCreateSchema),
        ("PaymentReservation", PaymentReservationSchema),
    ):
        if name not in spec.components.schemas:
            spec.components.schema(name, schema=schema)
