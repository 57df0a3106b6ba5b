"""Strategy logic shared by the backtester and the live engine: pure functions, no I/O.

The package imports nothing itself, so loading one part stays cheap; import from the modules,
among them:

- ``strategies.spec``: the strategy document, ``validate_spec`` and ``StrategySpec``
  (reference: docs/strategy-spec.md);
- ``strategies.rules``: the rule language, ``compile_rule``;
- ``strategies.indicators``: ``compute_indicators`` with TA-Lib;
- ``strategies.signals``: ``compute_signals``, the rules evaluated over candles and indicators;
- ``strategies.quantities``: order quantities a market accepts (lot step, minimums), ``QuantityRules``;
- ``strategies.examples``: example strategy documents.
"""
