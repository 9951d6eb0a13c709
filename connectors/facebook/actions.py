"""Hide, unhide and delete comments on the city's Page (Graph: ``is_hidden`` and ``DELETE``)."""

from __future__ import annotations

from connectors.core import NotFound, TransientError
from connectors.facebook.graph import GraphClient
from schemas import ModerationAction


class GraphActions:
    """Hide, unhide, delete and answer comments through the Graph API. Facebook and Instagram differ
    only in the edge a reply is posted to and the field that hides a comment."""

    platform = ""
    reply_edge = ""
    hide_field = ""

    def __init__(self, graph: GraphClient, account_id: str, min_interval: float) -> None:
        self.graph = graph
        self.account_id = account_id
        self.min_interval = min_interval

    def check(self) -> None:
        """Prove the token at start-up (190 -> ``CredentialError`` naming it)."""
        self.graph.request(f"{self.graph.version}/{self.account_id}", {"fields": "id"})

    def execute(self, action: ModerationAction) -> str:
        path = f"{self.graph.version}/{action.comment_id}"
        if action.action == "reply":
            result = self.graph.request(f"{path}/{self.reply_edge}", post_args={"message": action.text})
            if not result.get("id"):
                raise TransientError("the Graph API did not confirm the reply")
            return "replied"
        if action.action == "delete":
            try:
                result = self.graph.request(path, method="DELETE")
            except NotFound:
                return "already deleted"  # the goal of a delete is reached either way
        else:
            hidden = "true" if action.action == "hide" else "false"
            result = self.graph.request(path, post_args={self.hide_field: hidden})
        if result.get("success") is not True:
            raise TransientError("the Graph API did not confirm the change")
        return {"hide": "hidden", "unhide": "unhidden", "delete": "deleted"}[action.action]


class FacebookActions(GraphActions):
    """The Page token needs pages_manage_engagement (and the MODERATE task on the Page). A reply to a
    comment is a comment on it (``POST /{comment-id}/comments``)."""

    platform = "facebook"
    reply_edge = "comments"
    hide_field = "is_hidden"
