"""`rasa` with per-message costs of Rasa 3.6 removed: two by drop-ins that give the same
results, one by Rasa 3.7's action-server protocol, one by not computing an answer that
nothing reads.

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

And one change of protocol, Rasa 3.7's: the action server gets the domain's digest, not the
domain (23 KB of JSON of the 56 KB of a typical call, on ~2.4 calls per message). The
app's rasa_sdk (3.21) keeps the last domain it received with its digest and answers 449
to a digest it does not know; the call is then repeated with the domain.
`LAUNCH_WITHOUT=domain_digest` sends the domain on every call, for an action server whose
rasa_sdk predates digests (it would run the action with no domain).

And one NLU change that Rasa's dialogue cannot see: the ResponseSelector (the FAQ answers)
runs only on messages whose intent is its retrieval intent (`faq`). Its prediction for any
other message is never read: Rasa's `utter_faq` and actions/flows.py's `action_answer_faq`
run only on that intent (dialogue/rules.yml), and the processor reads the selector's output
only for a retrieval intent. Other messages still carry the list of retrieval intents.
`rasa test nlu` (the held-out figures) runs plain Rasa and still scores every message.

`LAUNCH_WITHOUT=name,...` leaves out any of these (INSTALLERS), e.g. to measure one.
"""

from __future__ import annotations

import contextvars
import os
import sys
from functools import cache
from typing import Any

# Comma-separated names of INSTALLERS to leave out (A/B benchmarks; "domain_digest" for an
# action server whose rasa_sdk predates digests).
WITHOUT_ENV = "LAUNCH_WITHOUT"


def install() -> None:
    left_out = {n.strip() for n in os.environ.get(WITHOUT_ENV, "").split(",") if n.strip()}
    unknown = left_out - set(INSTALLERS)
    if unknown:
        raise SystemExit(f"{WITHOUT_ENV}: unknown {sorted(unknown)}; known: {sorted(INSTALLERS)}")
    for name, installer in INSTALLERS.items():
        if name not in left_out:
            installer()


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


def install_domain_digest() -> None:
    """Send the action server the domain's digest instead of the domain, and the domain only
    when the server asks for it (449), as Rasa 3.7+ does with rasa_sdk >= 3.7."""
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.domain import Domain
    from rasa.utils.endpoints import ClientResponseError

    original_format = RemoteAction._action_call_format
    original_run = RemoteAction.run
    send_domain = contextvars.ContextVar("send_domain", default=False)
    known: list[tuple[Domain, str]] = []   # the last domain and its digest (one per model)

    def digest(domain: Domain) -> str:
        if not known or known[0][0] is not domain:
            known[:] = [(domain, domain.fingerprint())]
        return known[0][1]

    def action_call_format(self: Any, tracker: Any, domain: Domain) -> dict[str, Any]:
        body: dict[str, Any] = original_format(self, tracker, domain)
        if "domain" in body:   # the action needs the domain (not only a selective one)
            body["domain_digest"] = digest(domain)
            if not send_domain.get():
                del body["domain"]
        return body

    async def run(self: Any, output_channel: Any, nlg: Any, tracker: Any,
                  domain: Domain) -> Any:
        try:
            return await original_run(self, output_channel, nlg, tracker, domain)
        except Exception as exc:   # Rasa raises RasaException from the HTTP error
            cause = exc.__cause__
            if not (isinstance(cause, ClientResponseError) and cause.status == 449):
                raise
        # 449: the server has no domain of this digest (it started, or the model changed);
        # the action did not run, so it runs again with the domain
        token = send_domain.set(True)
        try:
            return await original_run(self, output_channel, nlg, tracker, domain)
        finally:
            send_domain.reset(token)

    RemoteAction._action_call_format = action_call_format  # type: ignore[method-assign]
    RemoteAction.run = run  # type: ignore[method-assign]


def install_faq_only_selector() -> None:
    """Run the ResponseSelector only on messages of its retrieval intent."""
    from rasa.nlu.constants import (
        RESPONSE_SELECTOR_PROPERTY_NAME,
        RESPONSE_SELECTOR_RETRIEVAL_INTENTS,
    )
    from rasa.nlu.selectors.response_selector import ResponseSelector
    from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY

    original = ResponseSelector.process

    def process(self: Any, messages: list[Any]) -> list[Any]:
        wanted = {self.retrieval_intent} if self.retrieval_intent \
            else set(self.all_retrieval_intents)
        asked = [m for m in messages if (m.get(INTENT) or {}).get(INTENT_NAME_KEY) in wanted]
        original(self, asked)
        answered = {id(m) for m in asked}   # by identity: Message equality compares content
        for m in messages:
            if id(m) not in answered:   # what Rasa reads to know the retrieval intents
                props = m.get(RESPONSE_SELECTOR_PROPERTY_NAME, {})
                props[RESPONSE_SELECTOR_RETRIEVAL_INTENTS] = self.all_retrieval_intents
                m.set(RESPONSE_SELECTOR_PROPERTY_NAME, props, add_to_output=True)
        return messages

    ResponseSelector.process = process  # type: ignore[method-assign]


INSTALLERS = {"validator": install_action_result_validator,
              "event_table": install_event_type_table,
              "domain_digest": install_domain_digest,
              "faq_selector": install_faq_only_selector}


def main() -> None:
    install()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
