"""Money as integer cents, written the French way: 1 234,50 €."""


def format_cents(cents: int | None, *, currency: bool = True) -> str:
    """ "30,00 €" for 3000, "-2,10 €" for -210, "1 234,50 €" for 123450; "—" for None."""
    if cents is None:
        return "—"
    cents = int(cents)
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(cents), 100)
    grouped = f"{euros:,}".replace(",", " ")
    text = f"{sign}{grouped},{rest:02d}"
    return f"{text} €" if currency else text


def parse_euros(value: str) -> int:
    """Cents from what a person types: "30", "30,5", "30,50 €", "1 234.5". ValueError otherwise."""
    text = str(value).replace("€", "").replace("\u00a0", "").replace(" ", "").strip()
    text = text.replace(",", ".")
    if not text or text.count(".") > 1:
        raise ValueError(value)
    sign = -1 if text.startswith("-") else 1
    text = text.lstrip("+-")
    whole, _, fraction = text.partition(".")
    if (
        not (whole or fraction)
        or not (whole or "0").isdigit()
        or (fraction and not fraction.isdigit())
    ):
        raise ValueError(value)
    if len(fraction) > 2:
        raise ValueError(value)
    return sign * (int(whole or "0") * 100 + int((fraction + "00")[:2]))
