"""OICP StatusCode values the hub and the checks use, with the spec's wording."""

SUCCESS = "000"
SYSTEM_ERROR = "001"
DATA_TRANSACTION_ERROR = "009"
UNAUTHORIZED = "017"
INCONSISTENT_EVSE_ID = "018"
INCONSISTENT_EVCO_ID = "019"
DATA_ERROR = "022"
RFID_INVALID_UID = "102"
NO_POSITIVE_AUTHENTICATION = "106"
PARTNER_NOT_FOUND = "300"
SERVICE_NOT_AVAILABLE = "320"
SESSION_INVALID = "400"
EVSE_RESERVED = "601"
EVSE_IN_USE = "602"
UNKNOWN_EVSE = "603"

DESCRIPTIONS = {
    SUCCESS: "Success.",
    SYSTEM_ERROR: "Hubject system error.",
    DATA_TRANSACTION_ERROR: "Data transaction error.",
    UNAUTHORIZED: "Unauthorized Access.",
    INCONSISTENT_EVSE_ID: "Inconsistent EvseID.",
    INCONSISTENT_EVCO_ID: "Inconsistent EvcoID.",
    DATA_ERROR: "Data error.",
    RFID_INVALID_UID: "RFID Authentication failed - invalid UID.",
    NO_POSITIVE_AUTHENTICATION: "No positive authentication response.",
    PARTNER_NOT_FOUND: "Partner not found.",
    SERVICE_NOT_AVAILABLE: "Service not available.",
    SESSION_INVALID: "Session is invalid.",
    EVSE_RESERVED: "EVSE already reserved.",
    EVSE_IN_USE: "EVSE already in use/ wrong token.",
    UNKNOWN_EVSE: "Unknown EVSE ID.",
}
