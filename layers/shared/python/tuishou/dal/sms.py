"""SMS through SNS: a direct publish to one phone number, transactional (the only code that may text)."""

from __future__ import annotations

from tuishou.dal import clients


def send_sms(phone: str, body: str) -> str:
    """One SMS to ``phone`` (E.164); the SNS message id. Transactional: SNS favours delivery over cost."""
    response = clients.call(
        clients.sns(),
        "publish",
        PhoneNumber=phone,
        Message=body,
        MessageAttributes={"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}},
    )
    return str(response["MessageId"])
