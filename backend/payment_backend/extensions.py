"""Unbound extensions, bound to the app in create_app."""

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from payment_backend.models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
