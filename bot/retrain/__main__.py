"""`python -m bot.retrain review|merge|retrain|rollback ...`."""

from bot.retrain.cli import main

raise SystemExit(main())
