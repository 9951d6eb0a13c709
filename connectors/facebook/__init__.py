"""Facebook Page connector: polling (``connector``), webhook receiver (``webhook``), actions.

``graph`` is the only module that touches facebook-sdk; ``mapping`` is shared by the poller and
the webhook so a comment reads the same whichever path brought it.
"""

from connectors.facebook.actions import FacebookActions
from connectors.facebook.connector import FacebookConnector
from connectors.facebook.graph import GraphClient, make_graph
from connectors.facebook.webhook import WebhookReceiver

__all__ = ["FacebookActions", "FacebookConnector", "GraphClient", "WebhookReceiver", "make_graph"]
