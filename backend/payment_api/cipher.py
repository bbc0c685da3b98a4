"""The service's body encryption: Base64(AES-256-CBC(PKCS#7(UTF-8 JSON))) with a fixed key and IV."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from Crypto.Cipher import AES
from Crypto.Util.Padding import pad, unpad

from payment_api.errors import ProtocolError


class BodyCipher:
    """Encrypts request bodies and decrypts answers exactly as the seed's clients do."""

    def __init__(self, key: str, iv: str) -> None:
        self._key = key.encode()
        self._iv = iv.encode()
        if len(self._key) not in (16, 24, 32) or len(self._iv) != 16:
            raise ValueError("key must be 16, 24 or 32 bytes and iv 16 bytes (as UTF-8)")

    def encrypt(self, value: Any) -> str:
        """A JSON value as Base64 ciphertext."""
        plain = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
        cipher = AES.new(self._key, AES.MODE_CBC, self._iv)
        return base64.b64encode(cipher.encrypt(pad(plain, AES.block_size))).decode()

    def decrypt(self, text: str | bytes) -> Any:
        """Base64 ciphertext back to a JSON value."""
        try:
            raw = base64.b64decode(text, validate=True)
            cipher = AES.new(self._key, AES.MODE_CBC, self._iv)
            return json.loads(unpad(cipher.decrypt(raw), AES.block_size).decode())
        except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
            raise ProtocolError(
                "The answer could not be decrypted: are the key and IV the service's?"
            ) from exc
