"""The real Rasa server (session scope) for the conversation suite."""

from tests.rasa.server import rasa_action_port, rasa_model, rasa_server  # noqa: F401
