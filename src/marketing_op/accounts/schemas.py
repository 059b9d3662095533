from __future__ import annotations

import datetime

from ninja import Field, Schema


class TokenOut(Schema):
    token: str = Field(description="Bearer token for the Authorization header.")
    expires_at: datetime.datetime = Field(description="When the token stops working (UTC).")
    scopes: str = Field(description="Space-separated scopes: read, or read write.")


class TokenResponse(Schema):
    data: TokenOut
