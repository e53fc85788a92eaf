"""Technical analysis: incremental indicators (``indicators``) and candlestick patterns
(``candles``), each exact against TA-Lib bar by bar."""
