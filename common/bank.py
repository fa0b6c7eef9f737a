"""Bank details as people type them: IBAN and BIC (checked with schwifty) and the SEPA creditor
identifier (ICS). Each cleaner returns the normalised form or raises ValidationError with a
French message that a form shows on its field."""

import re

from django.core.exceptions import ValidationError
from schwifty import BIC, IBAN
from schwifty import exceptions as iban_errors


def clean_iban(value: str) -> str:
    """The IBAN `value` as its compact upper-case form, checked with schwifty (country, length,
    check digits, national format and key); ValidationError with a French message otherwise."""
    compact = "".join((value or "").split()).upper()
    if not compact:
        raise ValidationError("Indiquez l'IBAN du compte à prélever.", code="required")
    if not compact.isalnum() or not compact.isascii():
        raise ValidationError(
            "Un IBAN ne contient que des lettres et des chiffres (les espaces sont acceptés).",
            code="characters",
        )
    country = compact[:2]
    try:
        iban = IBAN(compact, validate_bban=True)
    except iban_errors.InvalidCountryCode:
        raise ValidationError(
            f"Cet IBAN commence par « {country} », qui n'est pas un code de pays : un IBAN "
            "français commence par FR.",
            code="country",
        ) from None
    except iban_errors.InvalidLength:
        expected = _iban_length(country)
        detail = f"un IBAN {country} compte {expected} caractères" if expected else ""
        raise ValidationError(
            f"Cet IBAN compte {len(compact)} caractères : "
            f"{detail or 'sa longueur ne correspond pas à son pays'}. Recopiez-le depuis votre "
            "RIB.",
            code="length",
        ) from None
    except iban_errors.InvalidChecksumDigits:
        raise ValidationError(
            "Cet IBAN n'est pas valide : vérifiez la clé de contrôle (les 2 chiffres après "
            f"{country}) et recopiez-le depuis votre RIB.",
            code="checksum",
        ) from None
    except iban_errors.InvalidBBANChecksum:
        raise ValidationError(
            "Cet IBAN n'est pas valide : la clé RIB (les 2 derniers chiffres) ne correspond pas "
            "au numéro de compte. Recopiez-le depuis votre RIB.",
            code="bban_checksum",
        ) from None
    except iban_errors.SchwiftyException:
        raise ValidationError(
            "Cet IBAN n'est pas valide : son format ne correspond pas à celui de son pays. "
            "Recopiez-le depuis votre RIB.",
            code="format",
        ) from None
    if not iban.in_sepa_zone:
        raise ValidationError(
            "Le prélèvement SEPA n'est possible que sur un compte de la zone SEPA.",
            code="sepa",
        )
    return iban.compact


def _iban_length(country: str) -> int | None:
    from schwifty.iban import registry

    try:
        return registry.get_iban_spec(country).iban_length
    except iban_errors.SchwiftyException:
        return None


def clean_bic(value: str, *, iban: str = "") -> str:
    """The BIC `value` normalised (upper case, no spaces), checked for its format and, when
    schwifty knows the bank of `iban`, for being that bank's; ValidationError otherwise."""
    compact = "".join((value or "").split()).upper()
    if not compact:
        raise ValidationError("Indiquez le BIC de votre banque.", code="required")
    try:
        bic = BIC(compact)
    except iban_errors.SchwiftyException:
        raise ValidationError(
            "Ce BIC n'est pas valide : il compte 8 ou 11 caractères, par exemple AGRIFRPP ou "
            "AGRIFRPP835. Il figure sur votre RIB.",
            code="bic",
        ) from None
    expected = bank_bic(iban)
    if expected and expected[:6] != bic.compact[:6]:
        raise ValidationError(
            f"Ce BIC ({bic.compact}) ne correspond pas à la banque de l'IBAN (BIC "
            f"{expected[:8]}…) : vérifiez l'un et l'autre sur votre RIB.",
            code="bic_mismatch",
        )
    return bic.compact


def bank_bic(iban: str) -> str:
    """The BIC of the bank of `iban` when schwifty's registry knows it, else ""."""
    if not iban:
        return ""
    try:
        bic = IBAN(iban).bic
    except iban_errors.SchwiftyException:
        return ""
    return bic.compact if bic else ""


ICS_PATTERN = re.compile(r"^([A-Z]{2})(\d{2})([A-Z0-9]{3})([A-Z0-9]{1,28})$")


def ics_is_valid(ics: str) -> bool:
    """A SEPA creditor identifier (ICS): country, check digits (ISO 7064 mod 97-10, computed
    without the 3-character business code), business code, national identifier."""
    match = ICS_PATTERN.match((ics or "").replace(" ", "").upper())
    if not match:
        return False
    country, digits, _, national = match.groups()
    numeric = "".join(str(int(char, 36)) for char in f"{national}{country}00")
    return 98 - int(numeric) % 97 == int(digits)


def mask_iban(iban: str) -> str:
    """FR76 •••• •••• 1234: the only form in which an IBAN is shown, e-mailed or logged."""
    if "•" in (iban or ""):  # already masked
        return iban
    compact = "".join((iban or "").split())
    if len(compact) < 8:
        return "•" * len(compact)
    return f"{compact[:4]} •••• •••• {compact[-4:]}"
