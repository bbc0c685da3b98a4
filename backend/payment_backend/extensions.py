"""Unbound extensions, bound to the app in create_app."""

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from payment_backend.models.base import Base

# Objects keep their values after commit: answers are built from what was just written,
# without reloading it (row locks re-read with populate_existing where freshness matters).
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()
