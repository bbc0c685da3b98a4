"""marshmallow schemas at every boundary."""
