from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tenants.decorators import tenant_required


@tenant_required
def mailbox(request: HttpRequest) -> HttpResponse:
    return render(request, "inbox/mailbox.html")
