from .models import Thread


def unread_thread_count(request) -> int:
    """Threads of the signed-in parent's family with an office message not yet read: one query."""
    if not request.user.is_authenticated:
        return 0
    return Thread.objects.filter(family__guardians__user=request.user, family_unread=True).count()
