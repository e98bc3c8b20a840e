"""Our benchmark harness: python-telegram-bot applications driven in-process, no network.

* :mod:`bench.harness.fake_request`: a ``BaseRequest`` that answers every Bot API call in the
  same process, counts the calls and keeps what each chat is shown;
* :mod:`bench.harness.driver`: the walk files, Bot API update JSON, the black-box walker that
  presses buttons by label, the timed loop over ``Application.process_update``, and building an
  application from a ``module:function`` factory;
* :mod:`bench.harness.baselines`: the FLOOR and the ANCHOR (a ``ConversationHandler`` with
  ``PicklePersistence``) our bot is compared with;
* :mod:`bench.harness.cli`: ``python -m bench.harness run ...`` (also ``python bench/harness
  run ...``), one measurement as one JSON line; bench/product_bench.sh calls it.

docs/benchmarks.md describes the method and holds the results.
"""
