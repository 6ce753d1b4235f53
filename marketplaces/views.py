from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tenants.decorators import tenant_required


@tenant_required
def store_list(request: HttpRequest) -> HttpResponse:
    return render(request, "marketplaces/store_list.html")
