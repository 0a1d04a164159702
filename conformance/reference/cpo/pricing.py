"""The reference CPO's tariffs: its pricing products and which of them apply at which EVSE.

Written from CPO 2 eRoamingDynamicPricing and CPO 3 (PricingProductDataType, EVSEPricingType): prices per
reference unit without VAT ("Pricing updates should be pushed without VAT"), units from ReferenceUnitType,
ISO 4217 currencies, ProductIDs unique, offered to every EMP (ProviderID "*")."""

from __future__ import annotations

import copy
from typing import Any

OFFER_TO_ALL = "*"  # "the asterix character (*) can be set as the value in this field"
ALL_DAY = [{"Periods": [{"begin": "00:00", "end": "23:59"}], "on": "Everyday"}]

PRODUCTS: tuple[dict[str, Any], ...] = (
    {
        "ProductID": "AC_STANDARD",
        "ReferenceUnit": "KILOWATT_HOUR",
        "ProductPriceCurrency": "EUR",
        "PricePerReferenceUnit": 0.39,
        "MaximumProductChargingPower": 22,
        "IsValid24hours": True,
        "ProductAvailabilityTimes": ALL_DAY,
        "AdditionalReferences": [
            {
                "AdditionalReference": "PARKING FEE",
                "AdditionalReferenceUnit": "HOUR",
                "PricePerAdditionalReferenceUnit": 1.5,
            }
        ],
    },
    {
        "ProductID": "AC_NIGHT",
        "ReferenceUnit": "KILOWATT_HOUR",
        "ProductPriceCurrency": "EUR",
        "PricePerReferenceUnit": 0.29,
        "MaximumProductChargingPower": 22,
        "IsValid24hours": False,  # then the times "SHOULD be provided in the field ProductAvailabilityTimes"
        "ProductAvailabilityTimes": [{"Periods": [{"begin": "22:00", "end": "06:00"}], "on": "Everyday"}],
    },
    {
        "ProductID": "AC_TIME",
        "ReferenceUnit": "MINUTE",
        "ProductPriceCurrency": "EUR",
        "PricePerReferenceUnit": 0.05,
        "MaximumProductChargingPower": 11,
        "IsValid24hours": True,
        "ProductAvailabilityTimes": ALL_DAY,
        "AdditionalReferences": [
            {
                "AdditionalReference": "START FEE",
                "AdditionalReferenceUnit": "MINUTE",
                "PricePerAdditionalReferenceUnit": 1.0,
            }
        ],
    },
)


def pricing_product_data(operator_id: str, operator_name: str) -> dict[str, Any]:
    """PricingProductData of this CPO: its default price for EVSEs without a product, and its products."""
    return {
        "OperatorID": operator_id,
        "OperatorName": operator_name,
        "ProviderID": OFFER_TO_ALL,
        "PricingDefaultPrice": 0.45,
        "PricingDefaultPriceCurrency": "EUR",
        "PricingDefaultReferenceUnit": "KILOWATT_HOUR",
        "PricingProductDataRecords": copy.deepcopy(list(PRODUCTS)),
    }


def evse_pricing(evse_ids: list[str]) -> list[dict[str, Any]]:
    """EVSEPricing: every EVSE gets the per-kWh products; the time-based one only at the first of each station."""
    records = []
    for evse_id in evse_ids:
        products = ["AC_STANDARD", "AC_NIGHT"] + (["AC_TIME"] if evse_id.endswith("*1") else [])
        records.append({"EvseID": evse_id, "ProviderID": OFFER_TO_ALL, "EvseIDProductList": products})
    return records
