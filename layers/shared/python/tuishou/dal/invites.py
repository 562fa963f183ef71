"""Invite codes (UsersTable): a promoter's one code, and the code's lookup of its promoter."""

from __future__ import annotations

from tuishou.dal import dynamo, keys
from tuishou.errors import Forbidden


def get_invite_code(promoter_id: str) -> str | None:
    item = dynamo.get("users", keys.promoter_invite(promoter_id), consistent=True)
    return item["invite_code"] if item else None


def create_invite(promoter_id: str, code: str, created_at: str) -> bool:
    """The promoter's code and the code's lookup, only for a registered promoter. False when the promoter
    got a code meanwhile (or the code collided: the caller reads again)."""
    users = dynamo.table("users")
    mine_pk, mine_sk = keys.promoter_invite(promoter_id)
    code_pk, code_sk = keys.invite(code)
    record = {"invite_code": code, "promoter_id": promoter_id, "created_at": created_at}
    items = [
        {
            "ConditionCheck": {
                "TableName": users,
                "Key": dynamo.key(*keys.profile(promoter_id)),
                "ConditionExpression": "#role = :promoter",
                "ExpressionAttributeNames": {"#role": "role"},
                "ExpressionAttributeValues": {":promoter": {"S": "promoter"}},
            }
        },
        {
            "Put": {
                "TableName": users,
                "Item": dynamo.to_item({"pk": mine_pk, "sk": mine_sk, **record}),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
        {
            "Put": {
                "TableName": users,
                "Item": dynamo.to_item({"pk": code_pk, "sk": code_sk, **record}),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
    ]
    try:
        dynamo.transact(items)
    except dynamo.Cancelled as cancelled:
        if cancelled.failed(0):
            raise Forbidden("register a promoter profile first (POST /promoter/profile)") from cancelled
        return False
    return True


def inviter_of(code: str) -> str | None:
    item = dynamo.get("users", keys.invite(code))
    return item["promoter_id"] if item else None
