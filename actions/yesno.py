"""The yes/no lexicon of the confirm steps lives in booking/yesno.py (shared with the
WhatsApp gateway); re-exported here for the actions."""

from booking.yesno import CHANGE_DAY, CHANGE_DOCTOR, CHANGE_TIME, is_correction, yes_no

__all__ = ["CHANGE_DAY", "CHANGE_DOCTOR", "CHANGE_TIME", "is_correction", "yes_no"]
