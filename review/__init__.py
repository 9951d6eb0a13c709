"""The review service: moderators' queue and analysts' dashboard (``civicwatch review``).

One process: a Kafka consumer keeps a SQLite materialised view of the topics it needs
(``store``/``ingest``), and an aiohttp application serves pages rendered on the server with jinja2
(``web``). Decisions go to ``moderation.decisions``; the worker's decisions agent turns them into
``moderation.actions`` and ``audit.log`` records. The service also audits its own steps (log-ins,
views of private information, exports).

Error tree::

    ReviewError(Exception)
    ├── UsersFileError     the users file is missing, unreadable or holds a plaintext password
    └── PublishError       a decision or audit record could not be written to Kafka
"""


class ReviewError(Exception):
    """Base of the review service's own errors."""


class UsersFileError(ReviewError):
    """The users file cannot be used; the message names the file and the problem."""


class PublishError(ReviewError):
    """A record could not be written to Kafka; nothing was recorded."""
