"""Admin headings in correct French.

Django's French admin builds its headings from the model's name without article or elision
(« Modification de échange », « Ajout de inscription », « Sélectionnez l'objet demande à
changer », « Ajouter échange »). A ModelAdmin with this mixin writes its own:

    class ThreadAdmin(FrenchTitlesMixin, admin.ModelAdmin):
        titles = FrenchTitles(
            add="Nouvel échange", change="Échange", changelist="Échanges", add_button="Nouvel échange"
        )

The change page keeps Django's subtitle (the object itself) under the heading; the list's
« add » button (templates/admin/change_list_object_tools.html) reads `add_button`. The admin
site gives every other ModelAdmin titles built by `titles_for` from its model's nouns.
"""

import json
from dataclasses import dataclass

from django.contrib.admin.helpers import InlineAdminFormSet
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.forms.renderers import TemplatesSetting


@dataclass(frozen=True)
class FrenchTitles:
    add: str
    change: str
    changelist: str
    view: str = ""  # the page of a staff member who may only read; `change` when empty
    add_button: str = ""  # the list's « add » button; `add` when empty
    # the list's « delete » action, its participle agreeing with the noun; Django's when empty
    delete_selected: str = ""


VOWELS = "aeiouyhéèêëàâîïôûù"


def titles_for(singular: str, plural: str, *, feminine: bool) -> FrenchTitles:
    """The headings of a model named `singular`/`plural`: « Factures », « Facture »,
    « Nouvelle facture », « Ajouter une facture »; « Nouvel enfant » before a vowel."""
    if feminine:
        new, article = "Nouvelle", "une"
    else:
        new, article = ("Nouvel" if singular[:1].lower() in VOWELS else "Nouveau"), "un"
    return FrenchTitles(
        add=f"{new} {singular}",
        change=singular[:1].upper() + singular[1:],
        changelist=plural[:1].upper() + plural[1:],
        add_button=f"Ajouter {article} {singular}",
        delete_selected=f"Supprimer les {plural} sélectionné{'e' if feminine else ''}s",
    )


class FrenchRelatedFieldWidgetWrapper(RelatedFieldWidgetWrapper):
    """Django's « add / change / delete / view » links beside a related field, rendered
    with the project's templates/admin/widgets/related_widget_wrapper.html (Django's form
    renderer reads only the applications' templates)."""

    def render(self, name, value, attrs=None, renderer=None):
        return super().render(name, value, attrs, renderer=TemplatesSetting())


def _french_related_links(formfield):
    widget = getattr(formfield, "widget", None)
    if type(widget) is RelatedFieldWidgetWrapper:
        widget.__class__ = FrenchRelatedFieldWidgetWrapper
    return formfield


class FrenchInlineAdminFormSet(InlineAdminFormSet):
    """An inline whose « add another » link reads `add_another` of its InlineModelAdmin
    (« Ajouter un enfant ») rather than Django's « Ajouter un objet Enfant supplémentaire »."""

    def inline_formset_data(self):
        data = json.loads(super().inline_formset_data())
        data["options"]["addText"] = self.opts.add_another
        return json.dumps(data)


class FrenchInlineMixin:
    add_another: str = ""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        return _french_related_links(super().formfield_for_dbfield(db_field, request, **kwargs))


class FrenchTitlesMixin:
    titles: FrenchTitles | None = None

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        return _french_related_links(super().formfield_for_dbfield(db_field, request, **kwargs))

    def get_actions(self, request):
        actions = super().get_actions(request)
        if self.titles and self.titles.delete_selected and "delete_selected" in actions:
            func, name, _description = actions["delete_selected"]
            actions[name] = (func, name, self.titles.delete_selected)
        return actions

    def get_inline_formsets(self, request, formsets, inline_instances, obj=None):
        inline_admin_formsets = super().get_inline_formsets(
            request, formsets, inline_instances, obj
        )
        for inline_admin_formset in inline_admin_formsets:
            if getattr(inline_admin_formset.opts, "add_another", ""):
                inline_admin_formset.__class__ = FrenchInlineAdminFormSet
        return inline_admin_formsets

    def _with_title(self, extra_context, title):
        if not self.titles:
            return extra_context
        # The breadcrumbs' link to the list (templates/admin/change_form.html).
        return {"title": title, "changelist_title": self.titles.changelist, **(extra_context or {})}

    def add_view(self, request, form_url="", extra_context=None):
        titles = self.titles
        return super().add_view(
            request, form_url, self._with_title(extra_context, titles and titles.add)
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        titles = self.titles
        if titles:
            may_change = self.has_change_permission(request)
            title = titles.change if may_change or not titles.view else titles.view
            extra_context = self._with_title(extra_context, title)
        return super().change_view(request, object_id, form_url, extra_context)

    def changelist_view(self, request, extra_context=None):
        titles = self.titles
        if titles:
            extra_context = {
                "add_button": titles.add_button or titles.add,
                **self._with_title(extra_context, titles.changelist),
            }
        return super().changelist_view(request, extra_context)
