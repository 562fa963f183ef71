"""A small Alipay open-API gateway for the local stack: ``alipay.fund.trans.uni.transfer`` and
``alipay.fund.trans.common.query``, as Alipay documents them. It checks the app id and the RSA2 request
signature (with the app's public key), validates the payee (a user id is 2088 and 12 digits, a logon id an
email or a phone and needs a name), makes at most one transfer per ``out_biz_no`` (a repeat gets the first
answer) and answers JSON signed with the key standing in for Alipay's (the stack verifies it with the
public half it holds as Alipay's public key). ``make local`` starts it and points
``TUISHOU_ALIPAY_API_BASE`` at ``gateway_url``.

Faults (``PUT /_local/faults``): ``payout.fail`` refuses the next transfers with 40004 ``PAYEE_NOT_EXIST``;
``payout.timeout_then_succeed`` makes them and answers after the caller's timeout. ``refuse_payee(identity)``
makes an account unknown, ``mismatch_name(name)`` a payee name that does not match its account.
``GET /_emulator/transfers`` lists every ``out_biz_no`` with its request and transfer counts."""

from __future__ import annotations

import json
import re
import secrets
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tools.payout_emulation import EmulatorHandler, EmulatorServer, TransferRecord, fires
from tuishou.logic import faults
from tuishou.providers import alipay

GATEWAY_PATH = "/gateway.do"
TRANSFER, QUERY = "alipay.fund.trans.uni.transfer", "alipay.fund.trans.common.query"
USER_ID = re.compile(r"2088\d{12}")
LOGON_ID = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}|1[0-9]{10}|\+[0-9]{6,15}")  # an email or a phone
OUT_BIZ_NO = re.compile(r"[0-9A-Za-z_-]{1,64}")
AMOUNT = re.compile(r"[0-9]{1,11}\.[0-9]{2}")
MIN_FEN = 10  # 0.10 yuan, the smallest transfer
BEIJING = timezone(timedelta(hours=8))
SUB_MESSAGES = {
    "PAYEE_NOT_EXIST": "收款账号不存在",
    "PAYEE_USER_INFO_ERROR": "收款用户姓名或其它信息不一致",
    "EXCEED_LIMIT_SM_MIN_AMOUNT": "单笔最低转账金额0.1元",
    "ORDER_NOT_EXIST": "转账订单不存在",
}


class AlipayEmulator(EmulatorServer):
    name = "alipay-emulator"

    def __init__(self, app_id: str, app_public_key_pem: str, alipay_private_key_pem: str) -> None:
        super().__init__()
        self.app_id = app_id
        self.app_public_key_pem = app_public_key_pem
        self.alipay_private_key_pem = alipay_private_key_pem
        self._unknown_payees: set[str] = set()
        self._mismatched_names: set[str] = set()

    @property
    def gateway_url(self) -> str:
        return self.url + GATEWAY_PATH

    def _handler(self) -> type[EmulatorHandler]:
        return _Handler

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self._unknown_payees.clear()
            self._mismatched_names.clear()

    def refuse_payee(self, identity: str) -> None:
        with self._lock:
            self._unknown_payees.add(identity)

    def mismatch_name(self, name: str) -> None:
        with self._lock:
            self._mismatched_names.add(name)

    # ------------------------------------------------------------------ the API
    def gateway(self, params: dict[str, str]) -> tuple[str, bool]:
        """(the signed JSON answer, whether it comes after the caller's timeout) to one request."""
        method = params.get("method", "")
        node_name = method.replace(".", "_") + "_response" if method in {TRANSFER, QUERY} else "error_response"
        problem = self._request_problem(params)
        if problem:
            return self._signed(node_name, problem), False
        biz = json.loads(params["biz_content"])
        if method == QUERY:
            return self._signed(node_name, self._query(biz)), False
        node, late = self._transfer(biz)
        return self._signed(node_name, node), late

    def _request_problem(self, params: dict[str, str]) -> dict[str, str] | None:
        """Alipay's answer to a request it cannot take (never a transfer), or None."""
        if params.get("method") not in {TRANSFER, QUERY}:
            return _refused("40002", "Invalid Arguments", "isv.invalid-method", "不存在的方法名")
        if params.get("app_id") != self.app_id:
            return _refused("40002", "Invalid Arguments", "isv.invalid-app-id", "无效的AppID参数")
        if params.get("sign_type") != "RSA2":
            return _refused("40002", "Invalid Arguments", "isv.invalid-signature-type", "无效的签名类型")
        content = alipay.signed_content(params, alipay.REQUEST_UNSIGNED)
        if not alipay.rsa2_verifies(content, params.get("sign", ""), self.app_public_key_pem):
            return _refused("40002", "Invalid Arguments", "isv.invalid-signature", "验签出错")
        try:
            biz = json.loads(params.get("biz_content", ""))
        except ValueError:
            biz = None
        if not isinstance(biz, dict):
            return _refused("40002", "Invalid Arguments", "isv.invalid-parameter", "biz_content无效")
        if not isinstance(biz.get("out_biz_no"), str) or not OUT_BIZ_NO.fullmatch(biz["out_biz_no"]):
            return _refused("40002", "Invalid Arguments", "isv.invalid-parameter", "out_biz_no无效")
        if biz.get("product_code") != "TRANS_ACCOUNT_NO_PWD" or biz.get("biz_scene") != "DIRECT_TRANSFER":
            return _refused("40002", "Invalid Arguments", "isv.invalid-parameter", "product_code或biz_scene无效")
        if params["method"] == TRANSFER and not AMOUNT.fullmatch(str(biz.get("trans_amount", ""))):
            return _refused("40002", "Invalid Arguments", "isv.invalid-parameter", "trans_amount无效")
        return None

    def _transfer(self, biz: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        key, amount = biz["out_biz_no"], biz["trans_amount"]
        found = biz.get("payee_info")
        payee: dict[str, Any] = found if isinstance(found, dict) else {}
        with self._lock:
            first = self.transfers.get(key)
            if first is not None:  # the same out_biz_no: the first answer, never a second transfer
                first.requests += 1
                return dict(first.answer), False
            refusal = self._payee_problem(payee) or self._amount_problem(amount)
            if refusal is None and fires(faults.PAYOUT_FAIL):
                refusal = "PAYEE_NOT_EXIST"
            identity = str(payee.get("identity", ""))
            if refusal is not None:
                node = _refused("40004", "Business Failed", refusal, SUB_MESSAGES[refusal])
                self.transfers[key] = TransferRecord(key, "FAIL", amount, "CNY", identity, None, 0, node)
                return node, False
            order_id = datetime.now(BEIJING).strftime("%Y%m%d") + "110070000" + f"{secrets.randbelow(10**13):013d}"
            node = {
                "code": "10000",
                "msg": "Success",
                "out_biz_no": key,
                "order_id": order_id,
                "pay_fund_order_id": order_id[:8] + "110070001" + order_id[17:],
                "status": "SUCCESS",
                "trans_date": datetime.now(BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
            }
            self.transfers[key] = TransferRecord(key, "SUCCESS", amount, "CNY", identity, order_id, 1, node)
            late = fires(faults.PAYOUT_TIMEOUT_THEN_SUCCEED)
        return node, late

    def _payee_problem(self, payee: dict[str, Any]) -> str | None:
        identity, kind, name = payee.get("identity"), payee.get("identity_type"), payee.get("name")
        if not isinstance(identity, str) or identity in self._unknown_payees:
            return "PAYEE_NOT_EXIST"
        if kind == "ALIPAY_USER_ID":
            return None if USER_ID.fullmatch(identity) else "PAYEE_NOT_EXIST"
        if kind != "ALIPAY_LOGON_ID" or not LOGON_ID.fullmatch(identity):
            return "PAYEE_NOT_EXIST"
        if not isinstance(name, str) or not name.strip() or name in self._mismatched_names:
            return "PAYEE_USER_INFO_ERROR"  # a logon id needs the account holder's name
        return None

    @staticmethod
    def _amount_problem(amount: str) -> str | None:
        return "EXCEED_LIMIT_SM_MIN_AMOUNT" if int(amount.replace(".", "")) < MIN_FEN else None

    def _query(self, biz: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            record = self.transfers.get(biz["out_biz_no"])
            if record is None:
                return _refused("40004", "Business Failed", "ORDER_NOT_EXIST", SUB_MESSAGES["ORDER_NOT_EXIST"])
            node: dict[str, Any] = {
                "code": "10000",
                "msg": "Success",
                "out_biz_no": record.key,
                "trans_amount": record.amount,
                "status": record.status,
            }
            if record.reference:
                node.update(order_id=record.reference, pay_fund_order_id=record.answer["pay_fund_order_id"])
                node["pay_date"] = (
                    datetime.fromtimestamp(record.created_at, UTC).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
                )
            else:
                node.update(error_code=record.answer["sub_code"], fail_reason=record.answer["sub_msg"])
            return node

    def _signed(self, node_name: str, node: dict[str, Any]) -> str:
        """The answer as Alipay writes it: the node's JSON text, and ``sign`` over exactly that text."""
        text = json.dumps(node, ensure_ascii=False, separators=(",", ":"))
        sign = alipay.rsa2_sign(text, self.alipay_private_key_pem)
        return f'{{"{node_name}":{text},"sign":"{sign}"}}'


def _refused(code: str, msg: str, sub_code: str, sub_msg: str) -> dict[str, str]:
    return {"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg}


class _Handler(EmulatorHandler):
    emulator: AlipayEmulator

    def do_GET(self) -> None:
        if urlsplit(self.path).path == "/_emulator/transfers":
            body = json.dumps({"items": self.emulator.listing()}, ensure_ascii=False).encode()
            self._answer(200, body, "application/json; charset=utf-8")
        else:
            self._answer(404, b'{"error": "not found"}', "application/json")

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        body = self._body()
        if url.path != GATEWAY_PATH:
            self._answer(404, b'{"error": "not found"}', "application/json")
            return
        try:  # the SDKs put the common parameters in the query string or the form: both count
            pairs = parse_qsl(url.query, keep_blank_values=True) + parse_qsl(body.decode(), keep_blank_values=True)
        except (UnicodeDecodeError, ValueError):
            pairs = []
        answer, late = self.emulator.gateway(dict(pairs))
        self._answer(200, answer.encode(), "application/json;charset=utf-8", late=late)
