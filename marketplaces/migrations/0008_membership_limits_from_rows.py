"""Agents who have store-access rows are limited (tenants 0003 adds the flag, default False)."""

from django.db import migrations


def flag_limited(apps, schema_editor):
    Membership = apps.get_model("tenants", "Membership")
    StoreAccess = apps.get_model("marketplaces", "StoreAccess")
    limited = StoreAccess.objects.values("membership_id")
    Membership.objects.filter(pk__in=limited).update(limited_to_stores=True)


class Migration(migrations.Migration):
    dependencies = [
        ("marketplaces", "0007_syncjob_resume_at"),
        ("tenants", "0003_membership_limited_to_stores"),
    ]

    operations = [migrations.RunPython(flag_limited, migrations.RunPython.noop)]
