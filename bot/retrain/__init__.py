"""NLU retraining from real conversations: review queue, merge, retrain with a regression gate.

Admin workflow (`python -m bot.retrain --help`):

1. `review` (or POST /admin/nlu/review): chat_logs -> a Rasa NLU YAML review file of the
   messages that hit the fallback, scored low, were rephrased, or ended in a handoff;
   PII masked, near-duplicates grouped, grouped by predicted intent.
2. The admin edits it: right intent per block, entity annotations, deletes the rest.
3. `merge FILE`: refuses unknown intents/entities, broken annotations, duplicates,
   conflicts and held-out test messages; appends the rest to nlu/reviewed.yml;
   `rasa data validate --fail-on-warnings` must stay clean.
4. `retrain --rasa-url URL`: trains a candidate, evaluates it and the served model on
   the frozen held-out set, promotes only without regression (models/served/), tells
   the server (`PUT /model`), writes reports/nlu/latest.md (GET /admin/nlu/report).
5. `rollback --rasa-url URL`: serves the previous model again.

Pure logic (masking, grouping, validation, the comparison rule, reports) is separate
from I/O (Mongo in booking/store_retrain.py, files, the Rasa CLI and server).
"""
