"""The Telegram transport: python-telegram-bot around the pure engine and the storage.

Modules, along the data path: ``polling`` / ``webhook`` (updates in), ``handlers`` (update ->
decision), ``conversation`` (the one path: lock, load, engine, commit, deliver), ``render``
(engine replies -> Bot API calls), ``outbox`` (delivery and retries). ``texts`` holds the
transport's own words, ``locks`` the per-chat locks, ``runtime`` what the running bot holds,
``logs`` the logging setup that keeps the token out. The application is put together above
this package, in ``bot.app``, and run by ``bot.run`` (``triage-bot run``).
"""
