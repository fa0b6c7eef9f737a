from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from . import households, invitations, services
from .decorators import family_required
from .forms import ChildContactFormSet, ChildForm, FamilyForm, GuardianForm, InvitationForm
from .models import Child, ChildHouseholdInvitation, GuardianInvitation


@family_required
def family_detail(request):
    family = request.family
    guardians = list(family.guardians.select_related("user"))
    context = {
        "family": family,
        "guardians": guardians,
        "can_leave": len(guardians) > 1,
        "pending_invitations": GuardianInvitation.objects.for_family(family).pending(
            timezone.now()
        ),
        "children": Child.objects.for_family(family)
        .select_related("school", "second_household")
        .prefetch_related("contacts", "enrolments__service", "enrolments__school_year"),
        # Children of another household that this one looks after too (résidence alternée):
        # their record stays with the first household, which this page does not show.
        "shared_children": Child.objects.filter(second_household__family=family)
        .select_related("school")
        .prefetch_related("enrolments__service", "enrolments__school_year"),
        "household_invitations": ChildHouseholdInvitation.objects.for_family(family)
        .pending(timezone.now())
        .select_related("child"),
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
def child_update(request, pk):
    # No family_required: without a family (e.g. just detached from it), the child is a 404.
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


@require_http_methods(["GET", "POST"])
@family_required
def invitation_create(request):
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = invitations.invitation_create(
                family=request.family,
                invited_by=request.user,
                email=form.cleaned_data["email"],
                now=timezone.now(),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                f"L'invitation est envoyée à {invitation.email}. Le lien est valable jusqu'au "
                f"{timezone.localtime(invitation.expires_at):%d/%m/%Y à %H:%M}.",
            )
            return redirect("families:family_detail")
    return render(request, "families/invitation_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
def invitation_revoke(request, pk):
    invitation = get_object_or_404(GuardianInvitation.objects.for_family(request.family), pk=pk)
    if request.method == "POST":
        try:
            invitations.invitation_revoke(
                invitation=invitation, by=request.user, now=timezone.now()
            )
        except ValidationError as exc:
            messages.error(request, exc.messages[0])
        else:
            messages.success(request, f"L'invitation envoyée à {invitation.email} est annulée.")
        return redirect("families:family_detail")
    return render(
        request,
        "families/invitation_revoke.html",
        {"invitation": invitation, "refusal": invitation.refusal_reason(timezone.now())},
    )


@require_http_methods(["GET", "POST"])
def invitation_accept(request, token):
    invitation = invitations.invitation_for_token(token)
    if invitation is None:
        return render(request, "families/invitation_accept.html", {"unknown": True}, status=404)
    now = timezone.now()
    refusal = invitations.acceptance_refusal(invitation=invitation, user=request.user, now=now)
    form = None
    if not refusal:
        form = GuardianForm(request.POST or None, prefix="guardian", user=request.user)
    if request.method == "POST" and form is not None and form.is_valid():
        try:
            invitations.invitation_accept(
                invitation=invitation, user=request.user, guardian_form=form, now=now
            )
        except ValidationError as exc:
            refusal, form = exc.messages[0], None
        else:
            messages.success(
                request, f"Vous êtes maintenant responsable du foyer {invitation.family.name}."
            )
            return redirect("families:family_detail")
    context = {"invitation": invitation, "refusal": refusal, "form": form}
    status = 400 if request.method == "POST" and refusal else 200
    return render(request, "families/invitation_accept.html", context, status=status)


@require_http_methods(["GET", "POST"])
@family_required
def family_leave(request):
    family = request.family
    if request.method == "POST":
        try:
            services.guardian_leave(guardian=request.user.guardian, now=timezone.now())
        except ValidationError as exc:
            messages.error(request, exc.messages[0])
            return redirect("families:family_detail")
        messages.success(request, f"Vous ne faites plus partie du foyer {family.name}.")
        return redirect("home")
    is_last = family.guardians.count() <= 1
    return render(request, "families/family_leave.html", {"family": family, "is_last": is_last})


@require_http_methods(["GET", "POST"])
@family_required
def household_invite(request, pk):
    """Invite the other parent to link one of the family's children to their own household
    (résidence alternée)."""
    child = get_object_or_404(Child.objects.for_family(request.family), pk=pk)
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = households.invitation_create(
                child=child,
                invited_by=request.user,
                email=form.cleaned_data["email"],
                now=timezone.now(),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                f"L'invitation est envoyée à {invitation.email}. Le lien est valable jusqu'au "
                f"{timezone.localtime(invitation.expires_at):%d/%m/%Y à %H:%M}.",
            )
            return redirect("families:family_detail")
    return render(request, "families/household_invite.html", {"form": form, "child": child})


@require_http_methods(["GET", "POST"])
def household_invitation_revoke(request, pk):
    invitation = get_object_or_404(
        ChildHouseholdInvitation.objects.for_family(request.family).select_related("child"),
        pk=pk,
    )
    now = timezone.now()
    if request.method == "POST":
        try:
            households.invitation_revoke(invitation=invitation, now=now)
        except ValidationError as exc:
            messages.error(request, exc.messages[0])
        else:
            messages.success(request, f"L'invitation envoyée à {invitation.email} est annulée.")
        return redirect("families:family_detail")
    return render(
        request,
        "families/household_invitation_revoke.html",
        {"invitation": invitation, "refusal": invitation.refusal_reason(now)},
    )


@require_http_methods(["GET", "POST"])
def household_accept(request, token):
    """The other parent, signed in with their own family, accepts the link: the child joins
    their household as its second household."""
    invitation = households.invitation_for_token(token)
    if invitation is None:
        return render(request, "families/household_accept.html", {"unknown": True}, status=404)
    now = timezone.now()
    refusal = households.acceptance_refusal(invitation=invitation, user=request.user, now=now)
    if request.method == "POST" and not refusal:
        try:
            households.invitation_accept(invitation=invitation, user=request.user, now=now)
        except ValidationError as exc:
            refusal = exc.messages[0]
        else:
            messages.success(
                request,
                f"{invitation.child.first_name} est rattaché(e) à votre foyer : vous pouvez "
                "réserver ses jours depuis l'agenda.",
            )
            return redirect("reservations:agenda")
    context = {"invitation": invitation, "refusal": refusal}
    status = 400 if request.method == "POST" and refusal else 200
    return render(request, "families/household_accept.html", context, status=status)
