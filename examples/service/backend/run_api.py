"""Entry point of the example service: python backend/run_api.py [--host HOST] [--port PORT]."""

import envlock_guard  # noqa: F401, I001  (first: refuses to start in a venv that drifted from pylock.toml)

import argparse

import uvicorn


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the example service.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    from app import app  # backend/app.py (this script's folder is first on sys.path)

    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
