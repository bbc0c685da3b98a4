"""python -m fake_iamport [--host H] [--port 10851] [--webhook-url URL]."""

from fake_common.cli import main
from fake_iamport import create_app

if __name__ == "__main__":
    main(create_app, name="fake_iamport", default_port=10851)
