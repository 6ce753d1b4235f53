"""Existing organisations get triage's starter replies (new ones get them at creation), so the
snippet library covers every intent."""

from django.db import migrations


def seed(apps, schema_editor):
    from triage.suggestions import STARTER_REPLIES

    Tenant = apps.get_model("tenants", "Tenant")
    Snippet = apps.get_model("inbox", "Snippet")
    for tenant_id in Tenant.objects.values_list("pk", flat=True):
        for reply in STARTER_REPLIES:
            Snippet.objects.get_or_create(
                tenant_id=tenant_id,
                shortcut=reply["shortcut"],
                defaults={"title": reply["title"], "body": reply["body"]},
            )


class Migration(migrations.Migration):
    dependencies = [("triage", "0001_initial"), ("inbox", "0008_triage_fields")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
