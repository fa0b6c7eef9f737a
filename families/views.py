from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from . import services
from .decorators import family_required
from .forms import ChildContactFormSet, ChildForm, FamilyForm, GuardianForm
from .models import Child


@family_required
def family_detail(request):
    family = request.family
    context = {
        "family": family,
        "guardians": family.guardians.select_related("user"),
        "children": Child.objects.for_family(family)
        .select_related("school")
        .prefetch_related("contacts"),
        "quotient": family.valid_quotient(timezone.localdate()),
    }
    return render(request, "families/family_detail.html", context)


@require_http_methods(["GET", "POST"])
def family_create(request):
    if request.family:
        return redirect("families:family_detail")
    family_form = FamilyForm(request.POST or None, prefix="family")
    if not request.POST:
        family_form.initial["name"] = request.user.last_name.upper()
    guardian_form = GuardianForm(request.POST or None, prefix="guardian", user=request.user)
    if request.method == "POST" and family_form.is_valid() and guardian_form.is_valid():
        try:
            services.family_create(
                user=request.user, family_form=family_form, guardian_form=guardian_form
            )
        except ValidationError as exc:
            family_form.add_error(None, exc)
        else:
            messages.success(
                request, "Votre dossier famille est créé. Ajoutez maintenant vos enfants."
            )
            return redirect("families:child_create")
    context = {"family_form": family_form, "guardian_form": guardian_form}
    return render(request, "families/family_form.html", context)


@require_http_methods(["GET", "POST"])
@family_required
def family_update(request):
    guardian = request.user.guardian
    family_form = FamilyForm(request.POST or None, instance=request.family, prefix="family")
    guardian_form = GuardianForm(
        request.POST or None, instance=guardian, prefix="guardian", user=request.user
    )
    if request.method == "POST" and family_form.is_valid() and guardian_form.is_valid():
        family_form.save()
        guardian_form.save()
        messages.success(request, "Les informations du foyer sont enregistrées.")
        return redirect("families:family_detail")
    context = {"family_form": family_form, "guardian_form": guardian_form, "is_update": True}
    return render(request, "families/family_form.html", context)


@require_http_methods(["GET", "POST"])
@family_required
def child_create(request):
    return _child_form(request, Child(family=request.family))


@require_http_methods(["GET", "POST"])
@family_required
def child_update(request, pk):
    child = get_object_or_404(Child.objects.for_family(request.family), pk=pk)
    return _child_form(request, child)


def _child_form(request, child):
    form = ChildForm(request.POST or None, instance=child)
    if not child.pk and not request.POST:
        form.initial["last_name"] = request.family.name
    formset = ChildContactFormSet(request.POST or None, instance=child, prefix="contacts")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        child = services.child_save(family=request.family, child_form=form, contact_formset=formset)
        messages.success(request, f"La fiche de {child.first_name} est enregistrée.")
        return redirect("families:family_detail")
    return render(
        request, "families/child_form.html", {"form": form, "formset": formset, "child": child}
    )
