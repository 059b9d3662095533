from __future__ import annotations

import datetime

from ninja import Field, Schema


class TokenOut(Schema):
    token: str = Field(description="Bearer token for the Authorization header.")
    expires_at: datetime.datetime = Field(description="When the token stops working (UTC).")
    scopes: str = Field(description="Space-separated scopes: read, or read write.")
    refresh_token: str = Field(
        description="Trades once for a new pair at POST /api/auth/token/refresh/."
    )
    refresh_expires_at: datetime.datetime = Field(
        description="When the refresh token stops working (UTC)."
    )


class TokenResponse(Schema):
    data: TokenOut


class RefreshIn(Schema):
    refresh_token: str = Field(
        max_length=200, description="The refresh_token of the last exchange or refresh."
    )
