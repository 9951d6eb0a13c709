"""Analytics for analysts (clauses 2.2.3 and 2.2.8): pure functions, no Kafka.

What a tagged comment leaves behind here is an ``Observation``: its time, platform, the city's post,
language, flagged clauses, topics and a perception score. No text, handle or author id survives
``observe``, so nothing downstream of it (faust tables, ``analytics.aggregates``, the dashboard, CSV
exports) can hold personal information (clause 6.1).
"""
