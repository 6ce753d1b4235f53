from django.urls import path

from . import aftersale_views, catalog_views

urlpatterns = [
    path("products/", catalog_views.product_list, name="product_list"),
    path("coupons/", catalog_views.coupon_list, name="coupon_list"),
    path(
        "settings/members/<uuid:member_id>/returns/",
        aftersale_views.after_sale_access_edit,
        name="after_sale_access_edit",
    ),
]
