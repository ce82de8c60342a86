"""Who may do what with devices and alarms, on ``accounts.permissions`` (issue 13).

No new actions: seeing devices, lifts and their readings is ``view`` (no personal data); the
alarm board is ``events`` (the handling chain of grid events); acknowledging and clearing an alarm
is ``command`` (the duty officer of the command centre); importing and editing devices is ``edit``.
"""

from linli.accounts.roles import Action

SEE_DEVICES = Action.VIEW
SEE_ALARMS = Action.EVENTS
HANDLE_ALARMS = Action.COMMAND
EDIT_DEVICES = Action.EDIT
