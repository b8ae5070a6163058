"""Her conversation: everything between "her message stored" and "her replies queued".

One message, file by file:

- `receive.py`: a transport hands it over; `accept` stores it (`inbox.py`) and the
  transport acknowledges; `after_ack` checks the rate limit and asks the manager.
- `manager.py`: her messages in her order, under her conversation lock; a failure
  apologised for (`set_aside.py`), an outage left for the inbox sweep.
- `turn.py`: one message in one transaction: her session (`checkpoints.py`), her message
  read under its row lock (`inbox.py`), her words understood (`understanding.py`), then
  a channel event or a message to her case (`after_handoff.py`), or the flow engine and
  its events applied (`effects.py`); her replies queued (`bot.outbox.queue`), or what
  must not stay forgotten (`forgetting.py`); her checkpoint saved; the commit.
- `rehearsal.py`: the console's dry run of a draft flow, through the same
  understanding and the same table of effects.

Nothing below this package (`bot/flows/`, `bot/nlu/`, `bot/channels/`, the outbox, the
storage) imports from it.
"""
