from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from common.files import serve_private_file
from families.decorators import family_required

from . import selectors, services
from .forms import NewThreadForm, ReplyForm
from .models import Attachment, Message, Thread

THREADS_PER_PAGE = 20


@require_GET
@family_required
def thread_list(request):
    threads = Thread.objects.for_family(request.family).only(
        "pk", "subject", "teleservice", "family_unread", "last_message_at"
    )
    page = Paginator(threads, THREADS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "exchanges/thread_list.html", {"page": page})


@require_http_methods(["GET", "POST"])
@family_required
def thread_detail(request, pk):
    thread = get_object_or_404(Thread.objects.for_family(request.family), pk=pk)
    form = ReplyForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.message_post(
                thread=thread,
                side=Message.Side.FAMILY,
                author=request.user,
                body=form.cleaned_data["body"],
                attachments=form.cleaned_data["attachments"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Votre message est envoyé au pôle administratif.")
            return redirect(thread)
    services.thread_mark_read(thread=thread, side=Message.Side.FAMILY)
    thread_messages = thread.messages.select_related("author").prefetch_related("attachments")
    return render(
        request,
        "exchanges/thread_detail.html",
        {
            "thread": thread,
            "thread_messages": thread_messages,
            "form": form,
            "related_link": selectors.related_link(thread),
        },
    )


@require_http_methods(["GET", "POST"])
@family_required
def thread_create(request):
    form = NewThreadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            thread = services.thread_start(
                family=request.family,
                subject=form.cleaned_data["subject"],
                body=form.cleaned_data["body"],
                side=Message.Side.FAMILY,
                author=request.user,
                attachments=form.cleaned_data["attachments"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Votre message est envoyé au pôle administratif.")
            return redirect(thread)
    return render(request, "exchanges/thread_form.html", {"form": form})


@require_GET
@family_required
def attachment_download(request, pk):
    attachment = get_object_or_404(Attachment.objects.for_family(request.family), pk=pk)
    return serve_private_file(
        attachment.file,
        download_name=attachment.original_name,
        content_type=attachment.content_type,
    )
