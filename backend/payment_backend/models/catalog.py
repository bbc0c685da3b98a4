"""The demo catalog the server prices orders from."""

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from payment_backend.models.base import Base


class Product(Base):
    """A product with its price in the currency's minor unit."""

    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(500), default="")
    price: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    active: Mapped[bool] = mapped_column(default=True)
