"""Admin headings in correct French.

Django's French admin builds its headings from the model's name without article or elision
(« Modification de échange », « Ajout de inscription », « Sélectionnez l'objet demande à
changer », « Ajouter échange »). A ModelAdmin with this mixin writes its own:

    class ThreadAdmin(FrenchTitlesMixin, admin.ModelAdmin):
        titles = FrenchTitles(
            add="Nouvel échange", change="Échange", changelist="Échanges", add_button="Nouvel échange"
        )

The change page keeps Django's subtitle (the object itself) under the heading. The « add »
button of the list needs the app's `admin/<app>/change_list.html`, which reads `add_button`.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class FrenchTitles:
    add: str
    change: str
    changelist: str
    view: str = ""  # the page of a staff member who may only read; `change` when empty
    add_button: str = ""  # the list's « add » button; `add` when empty


class FrenchTitlesMixin:
    titles: FrenchTitles | None = None

    def _with_title(self, extra_context, title):
        return {"title": title, **(extra_context or {})} if self.titles else extra_context

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
