"""Outbound notifications, in one place: the outbox model and its rules (what to send for
which booking event, dedupe keys, retry policy), message texts, the WhatsApp 24-hour window,
the channels (WhatsApp through Wati, e-mail) behind one `Channel` protocol, delivery
statuses, and the dispatcher that walks the channels in the order NOTIFY_CHANNELS gives.

Every role that sends something (bot, scheduler, api) goes through here; notify imports
booking/ and app/ only."""
