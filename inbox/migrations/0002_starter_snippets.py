"""The starter snippet library for organisations that existed before snippets: where is my
order, return instructions, delay apology, thanks. New organisations get it from tenant_create.
The texts are frozen here as they were when this ran; later edits to inbox.snippets do not
rewrite history. Snippets a tenant already has (same shortcut) are left alone."""

from django.db import migrations

STARTER_SNIPPETS = [
    {
        "shortcut": "where-is-my-order",
        "title": "Where is my order?",
        "body": "Hi there, thanks for reaching out! Your order {{ order.id }} ({{ order.items }}) is "
        "{{ order.status }}. It ships with {{ order.carrier }}, tracking number {{ "
        "order.tracking_number }}. You can follow it in the TikTok app under Orders. Best, "
        "{{ agent.first_name }} from {{ store.name }}",
    },
    {
        "shortcut": "return-instructions",
        "title": "Return instructions",
        "body": "Hi there, sorry the item didn't work out. To return order {{ order.id }}, open the "
        'order in the TikTok app, tap "Return/Refund", pick the items and the reason, and '
        "follow the steps shown. Once we receive the return we refund {{ order.total }} to "
        "your original payment method. {{ agent.first_name }} from {{ store.name }}",
    },
    {
        "shortcut": "delay-apology",
        "title": "Delay apology",
        "body": "Hi there, we're sorry that order {{ order.id }} is taking longer than expected. It "
        "is currently {{ order.status }} with {{ order.carrier }} (tracking {{ "
        "order.tracking_number }}). We're keeping an eye on it and will update you as soon "
        "as it moves. Thank you for your patience! {{ agent.first_name }}",
    },
    {
        "shortcut": "thanks",
        "title": "Thanks",
        "body": "Thank you for shopping with {{ store.name }}! If there's anything else we can help "
        "with, just reply here. Have a great day! {{ agent.first_name }}",
    },
]


def seed(apps, schema_editor):
    Tenant = apps.get_model("tenants", "Tenant")
    Snippet = apps.get_model("inbox", "Snippet")
    for tenant in Tenant.objects.all().iterator():
        for starter in STARTER_SNIPPETS:
            Snippet.objects.get_or_create(
                tenant=tenant,
                shortcut=starter["shortcut"],
                defaults={"title": starter["title"], "body": starter["body"]},
            )


class Migration(migrations.Migration):
    dependencies = [("inbox", "0001_initial"), ("tenants", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
