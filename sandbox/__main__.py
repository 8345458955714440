"""`python -m sandbox`: run the Wati sandbox on its own (point the app at it with WATI_API_URL)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os

from sandbox.server import WatiSandbox


async def _serve(args: argparse.Namespace) -> None:
    sandbox = WatiSandbox(token=args.token, webhook_url=args.webhook_url, host=args.host,
                          port=args.port)
    await sandbox.start()
    print(f"Wati sandbox: API {sandbox.url}  chat page {sandbox.url}/")  # noqa: T201
    try:
        await asyncio.Event().wait()
    finally:
        await sandbox.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="Local Wati sandbox")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default=os.environ.get("WATI_API_TOKEN", "sandbox-token"),
                        help="bearer token the API expects")
    app_url = os.environ.get("APP_URL", "http://127.0.0.1:8080")
    hook_token = os.environ.get("WATI_WEBHOOK_TOKEN", "dev-webhook-token")
    parser.add_argument("--webhook-url", default=f"{app_url}/whatsapp/webhook?token={hook_token}",
                        help="where to post webhooks (the app's /whatsapp/webhook?token=...)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        asyncio.run(_serve(args))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
