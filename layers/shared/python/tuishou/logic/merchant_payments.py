"""A merchant's payment settings: who their checkouts are paid to at the providers (the merchant match at
settlement, docs/integrity.md)."""

from __future__ import annotations

from tuishou import clock
from tuishou.dal import payments as payments_dal
from tuishou.dal.payments import MerchantPaymentSettings as SettingsRecord
from tuishou.models.payments import MerchantPaymentSettings, MerchantPaymentSettingsIn
from tuishou.observability import logger


def get_settings(merchant_id: str) -> MerchantPaymentSettings:
    record = payments_dal.get_merchant_settings(merchant_id)
    return MerchantPaymentSettings(updated_at=None) if record is None else _shown(record)


def put_settings(merchant_id: str, body: MerchantPaymentSettingsIn) -> MerchantPaymentSettings:
    """Set the given fields, keep the others (1 GetItem, 1 PutItem)."""
    current = payments_dal.get_merchant_settings(merchant_id)
    record = SettingsRecord(
        merchant_id=merchant_id,
        alipay_seller_id=body.alipay_seller_id or (current.alipay_seller_id if current else None),
        stripe_account_id=body.stripe_account_id or (current.stripe_account_id if current else None),
        updated_at=clock.iso(),
    )
    payments_dal.put_merchant_settings(record)
    logger.info("merchant payment settings changed", extra={"merchant_id": merchant_id})
    return _shown(record)


def _shown(record: SettingsRecord) -> MerchantPaymentSettings:
    return MerchantPaymentSettings(
        alipay_seller_id=record.alipay_seller_id,
        stripe_account_id=record.stripe_account_id,
        updated_at=record.updated_at,
    )
