"""`rasa` with two per-message costs of Rasa 3.6 removed, each replaced by a drop-in that
gives the same results.

    .venv-rasa/bin/python rasa_env/launch.py run --enable-api ...   (any `rasa` command)

py-spy on `rasa run` under bench.gateway / bench.rasa_cost (docs/scale-out.md, "Rasa's
cost per message"):

- The action server's answers. Rasa checks each with `jsonschema.validate(result, spec)`
  (rasa/core/actions/action.py, `RemoteAction._validate_action_result`), which first
  validates the *schema* against the JSON Schema 2020-12 meta-schema, every time; this
  assistant calls the action server at least once per message (slot validation). That was
  31% of Rasa's time per message. Here the schema is checked once and the validator kept;
  each answer is still validated against the same spec by the same validator class, and a
  bad answer raises the same ValidationError with the same message.
- Reading a conversation. Every message loads the tracker from the tracker store and
  rebuilds each event with `Event.resolve_by_type(name)`, which walks all Event subclasses
  (recursively, with an `inspect.isabstract` per class) for every event: 93% of the time
  to rebuild a 130-event conversation, 12% of Rasa's time per message in the benchmark,
  and growing with the conversation. Here the name -> class table is built once (and
  completed if a name is missing, in case an Event subclass was imported later); the first
  match wins as in Rasa's loop, and unknown names behave as before.
"""

from __future__ import annotations

import sys
from functools import cache
from typing import Any


def install() -> None:
    install_action_result_validator()
    install_event_type_table()


def install_action_result_validator() -> None:
    """Replace RemoteAction._validate_action_result with the cached-validator version."""
    from jsonschema import exceptions, validators
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    @cache
    def validator() -> Any:
        spec = RemoteAction.action_response_format_spec()
        cls = validators.validator_for(spec)
        cls.check_schema(spec)
        return cls(spec)

    def validate_action_result(self: Any, result: dict[str, Any]) -> bool:
        # what jsonschema.validate raises: the best match among the errors
        error = exceptions.best_match(validator().iter_errors(result))
        if error is None:
            return True
        error.message += (
            ". Failed to validate Action server response from API, make sure your response "
            "from the Action endpoint is valid. For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions")
        raise error

    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]


def install_event_type_table() -> None:
    """Replace Event.resolve_by_type with a lookup in a table of the Event subclasses."""
    import rasa.shared.utils.common as common
    from rasa.shared.core.events import Event

    original = Event.resolve_by_type
    table: dict[str, type] = {}

    def complete_table() -> None:
        # Adds, never clears: a concurrent reader sees a name's class or none, never another.
        for cls in common.all_subclasses(Event):  # Rasa's order: the first class of a name wins
            table.setdefault(cls.type_name, cls)

    def resolve_by_type(type_name: str, default: type | None = None) -> type | None:
        cls = table.get(type_name)
        if cls is None:
            complete_table()
            cls = table.get(type_name)
        # an unknown name: Rasa's own answer ("topic", the default, or its ValueError)
        return cls if cls is not None else original(type_name, default)

    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[method-assign,assignment]


def main() -> None:
    install()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
