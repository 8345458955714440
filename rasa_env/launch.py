"""`rasa` with the custom actions' answers checked by a schema validator built once.

    .venv-rasa/bin/python rasa_env/launch.py run --enable-api ...   (any `rasa` command)

Rasa 3.6 checks every answer of the action server with `jsonschema.validate(result,
spec)` (rasa/core/actions/action.py, `RemoteAction._validate_action_result`). That call
first validates the *schema* against the JSON Schema 2020-12 meta-schema, every time, and
this assistant calls the action server at least once per message (slot validation). py-spy
on `rasa run` under bench.gateway: 31% of Rasa's time per message was that schema check
(docs/scale-out.md, "Rasa's cost per message"). Here the schema is checked once and the
validator kept; each answer is still validated against the same spec by the same validator
class, and a bad answer raises the same ValidationError with the same message.
"""

from __future__ import annotations

import sys
from functools import cache
from typing import Any


def install() -> None:
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


def main() -> None:
    install()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
