"""Hide, unhide and delete comments on the city's Page (Graph: ``is_hidden`` and ``DELETE``)."""

from __future__ import annotations

from connectors.core import NotFound, TransientError
from connectors.facebook.graph import GraphClient
from schemas import ModerationAction


class FacebookActions:
    """The Page token needs pages_manage_engagement (and the MODERATE task on the Page)."""

    platform = "facebook"

    def __init__(self, graph: GraphClient, page_id: str, min_interval: float) -> None:
        self.graph = graph
        self.page_id = page_id
        self.min_interval = min_interval

    def check(self) -> None:
        """Prove the token at start-up (190 -> ``CredentialError`` naming it)."""
        self.graph.request(f"{self.graph.version}/{self.page_id}", {"fields": "id"})

    def execute(self, action: ModerationAction) -> str:
        path = f"{self.graph.version}/{action.comment_id}"
        if action.action == "reply":  # a reply to a comment is a comment on it (POST /{comment-id}/comments)
            result = self.graph.request(f"{path}/comments", post_args={"message": action.text})
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
            result = self.graph.request(path, post_args={"is_hidden": hidden})
        if result.get("success") is not True:
            raise TransientError("the Graph API did not confirm the change")
        return {"hide": "hidden", "unhide": "unhidden", "delete": "deleted"}[action.action]
