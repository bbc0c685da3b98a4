"""Credentials: the API secret, and access tokens from POST /login/api-secret."""

from __future__ import annotations

import secrets

from fake_portone.errors import PortOneError

ACCESS_TOKEN_SECONDS = 30 * 60
REFRESH_TOKEN_SECONDS = 24 * 3600


class TokenMixin:
    """The credential checks of PortOneGateway (its lock, clock and config)."""

    def login(self, api_secret: object) -> dict:
        """POST /login/api-secret: an access token (30 min) and a refresh token (1 day)."""
        if api_secret not in self.config["API_SECRETS"]:
            raise PortOneError("UNAUTHORIZED")
        return self._new_tokens()

    def refresh(self, token: object) -> dict:
        """POST /token/refresh: new tokens; the refresh token is single use."""
        with self.lock:
            current = self.refresh_token
            if current is None or token != current[0] or current[1] <= self.clock.now():
                raise PortOneError("UNAUTHORIZED", "리프레시 토큰이 유효하지 않습니다.")
            return self._new_tokens()

    def _new_tokens(self) -> dict:
        with self.lock:
            now = self.clock.now()
            access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
            self.access_tokens[access] = now + ACCESS_TOKEN_SECONDS
            # A new login or refresh ends the previous refresh token at once.
            self.refresh_token = (refresh, now + REFRESH_TOKEN_SECONDS)
            return {"accessToken": access, "refreshToken": refresh}

    def authorize(self, header: str) -> None:
        """Accept `PortOne <API secret>` or `Bearer <access token>`; UNAUTHORIZED otherwise."""
        scheme, _, credential = header.strip().partition(" ")
        credential = credential.strip()
        if scheme == "PortOne" and credential in self.config["API_SECRETS"]:
            return
        if scheme == "Bearer":
            with self.lock:
                expires = self.access_tokens.get(credential)
                if expires is not None and expires > self.clock.now():
                    return
        raise PortOneError("UNAUTHORIZED")
