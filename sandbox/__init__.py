"""A local stand-in for Wati.io: the send API (v3 and v1), status webhooks, a WhatsApp-like
chat page. The embedded default and the tests talk to it instead of a Wati account."""

from sandbox.server import WatiSandbox

__all__ = ["WatiSandbox"]
