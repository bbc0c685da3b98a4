"""Monitor responses."""

from marshmallow import Schema, fields


class HealthSchema(Schema):
    """Liveness of the service and its database."""

    status = fields.String(required=True, metadata={"example": "ok"})
    database = fields.String(required=True, metadata={"example": "ok"})


class SystemSchema(Schema):
    """What is running: version, commit, since when, on what."""

    version = fields.String(required=True, metadata={"example": "0.1.0"})
    commit = fields.String(required=True, metadata={"description": "Git commit or 'unknown'"})
    started_at = fields.DateTime(required=True)
    python = fields.String(required=True, metadata={"example": "3.11.2"})
    mode = fields.String(required=True, metadata={"enum": ["local", "test", "real"]})
    pid = fields.Integer(required=True)


class MemorySchema(Schema):
    """Memory of this process."""

    rss_bytes = fields.Integer(required=True, metadata={"description": "Resident set size now"})
    max_rss_bytes = fields.Integer(required=True, metadata={"description": "Peak resident size"})


class LatencySchema(Schema):
    """Latency percentiles over the recent requests of one endpoint (milliseconds)."""

    p50 = fields.Float(required=True)
    p95 = fields.Float(required=True)
    p99 = fields.Float(required=True)
    max = fields.Float(required=True)
    window = fields.Integer(required=True, metadata={"description": "Requests the figures cover"})


class EndpointStatsSchema(Schema):
    """Requests to one route since the start."""

    method = fields.String(required=True)
    endpoint = fields.String(required=True, metadata={"example": "/api/checkout/orders"})
    count = fields.Integer(required=True)
    statuses = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={"example": {"2xx": 3}},
    )
    latency_ms = fields.Nested(LatencySchema, required=True)


class RequestStatsSchema(Schema):
    """Request counts and latencies of this process."""

    total = fields.Integer(required=True)
    endpoints = fields.List(fields.Nested(EndpointStatsSchema), required=True)


class PerformanceSchema(Schema):
    """Uptime, memory and request statistics of the process that answers (one gunicorn worker)."""

    pid = fields.Integer(required=True)
    uptime_seconds = fields.Float(required=True)
    memory = fields.Nested(MemorySchema, required=True)
    requests = fields.Nested(RequestStatsSchema, required=True)
