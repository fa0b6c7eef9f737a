"""The PDF of « Mes données », rendered by WeasyPrint like every other document."""

from billing.pdfs import render_pdf


def my_data_pdf(data: dict, *, family) -> bytes:
    """The family's data (`portail.mydata.family_data`) as a readable document."""
    return render_pdf("portail/mes_donnees_pdf.html", {"data": data, "family": family})
