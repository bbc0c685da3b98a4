"""SQLAlchemy models, a module per aggregate."""

from payment_backend.models.base import Base
from payment_backend.models.catalog import Product

__all__ = ["Base", "Product"]
