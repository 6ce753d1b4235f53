from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tenants.decorators import tenant_required


@tenant_required
def order_list(request: HttpRequest) -> HttpResponse:
    return render(request, "orders/order_list.html")
