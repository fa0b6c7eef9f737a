"""French plurals in templates: singular for 0 and 1, plural from 2 on."""

from django.template import Context, Template


def render(text, **context):
    return Template("{% load french %}" + text).render(Context(context))


def test_zero_and_one_are_singular_two_is_plural():
    line = "{{ n }} facture{{ n|pluriel }} mise{{ n|pluriel }} en recouvrement"
    assert render(line, n=0) == "0 facture mise en recouvrement"
    assert render(line, n=1) == "1 facture mise en recouvrement"
    assert render(line, n=2) == "2 factures mises en recouvrement"


def test_two_forms_and_lengths():
    line = "{{ enfants|pluriel:'avait,avaient' }}"
    assert render(line, enfants=["Léa"]) == "avait"
    assert render(line, enfants=["Léa", "Lalo"]) == "avaient"
