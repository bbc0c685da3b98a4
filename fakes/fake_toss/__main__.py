"""python -m fake_toss [--host H] [--port 30771] [--webhook-url URL]."""

from fake_common.cli import main
from fake_toss import DEFAULT_PORT, create_app

if __name__ == "__main__":
    main(create_app, name="fake_toss", default_port=DEFAULT_PORT)
