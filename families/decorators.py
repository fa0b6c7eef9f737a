from functools import wraps

from django.contrib import messages
from django.shortcuts import redirect


def family_required(view):
    """The view needs the user's family: without one, the parent is sent to create it."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.family:
            messages.info(request, "Commencez par créer votre dossier famille.")
            return redirect("families:family_create")
        return view(request, *args, **kwargs)

    return wrapper
