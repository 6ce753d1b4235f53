"""Making and revoking API keys with their store limits (the settings page and the command)."""

from __future__ import annotations

from django.db import transaction

from marketplaces.models import APIKeyStoreAccess, Store
from tenants import services as tenant_services
from tenants.models import APIKey, APIScope, Tenant, User
from tenants.services import IssuedKey, TenancyError


def api_key_create(
    *,
    tenant: Tenant,
    name: str,
    scope: str = APIScope.READ,
    created_by: User | None = None,
    stores: list[Store] | None = None,
) -> IssuedKey:
    """A key of `tenant`; with `stores` (even empty) it serves only those stores."""
    if stores is not None and any(store.tenant_id != tenant.pk for store in stores):
        raise TenancyError("No such store.")
    with transaction.atomic():
        issued = tenant_services.api_key_create(
            tenant=tenant,
            name=name,
            scope=scope,
            created_by=created_by,
            limited_to_stores=stores is not None,
        )
        APIKeyStoreAccess.objects.bulk_create(
            [
                APIKeyStoreAccess(tenant=tenant, api_key=issued.api_key, store=store)
                for store in stores or []
            ]
        )
    return issued


def api_key_revoke(*, tenant: Tenant, api_key: APIKey, actor: User | None = None) -> bool:
    return tenant_services.api_key_revoke(tenant=tenant, api_key=api_key, actor=actor)
