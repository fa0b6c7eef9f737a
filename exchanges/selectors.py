from .models import Thread


def unread_thread_count(request) -> int:
    """Threads of the signed-in parent's family with an office message not yet read: one query."""
    if not request.user.is_authenticated or not request.family:
        return 0
    # The family came with the session (families.middleware): no join through the guardians.
    return Thread.objects.filter(family=request.family, family_unread=True).count()


def related_link(thread) -> dict | None:
    """The parent-side page of what the thread is about (a request, an invoice, a booking…), as
    {"label", "url"}; None when there is none. Only objects that declare `get_parent_url()` and
    `parent_link_label` are linked: `get_absolute_url()` of some objects leads to the admin."""
    related = thread.related if thread.related_type_id else None
    get_url = getattr(related, "get_parent_url", None)
    if get_url is None:
        return None
    return {"label": related.parent_link_label, "url": get_url()}
