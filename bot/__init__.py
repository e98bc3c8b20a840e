"""A Telegram triage bot for a massage-therapy practice (sciatica-type pain).

Public entry points:

* :func:`bot.app.build_application` – the python-telegram-bot application factory.
* :mod:`bot.engine` – the pure conversation engine.
* :mod:`bot.flow` – the therapist's flow language: loading, validation, compilation.
"""

__version__ = "0.1.0"
