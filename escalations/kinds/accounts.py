"""Kinds about the shop itself: violations, applications, lives, authorizations, creators."""

from __future__ import annotations

from .spec import (
    ERROR_HELP,
    IMAGES_OR_PDF,
    NOTES,
    PAST,
    YES,
    YES_NO_CHOICES,
    FieldSpec,
    FieldType,
    Kind,
    Section,
    WaitRule,
    problem,
    screenshots_section,
)


def _appeal_section(*, appeal_id_from: str | None, appealed_required: bool) -> Section:
    when_appealed = ("appealed", (YES,))
    return Section(
        "Appeal",
        (
            FieldSpec(
                "appealed",
                "Appealed in Seller Center",
                FieldType.YES_NO,
                required=appealed_required,
                choices=YES_NO_CHOICES,
            ),
            FieldSpec(
                "appeal_date",
                "Appeal date",
                FieldType.DATETIME,
                required_when=when_appealed,
                help=PAST,
            ),
            FieldSpec(
                "appeal_id",
                "Appeal id",
                required_when=None if appeal_id_from else when_appealed,
                default_from=appeal_id_from,
                help="Left empty, it is the record id." if appeal_id_from else "",
            ),
            FieldSpec(
                "appeal_status",
                "Appeal status",
                FieldType.CHOICE,
                required_when=when_appealed,
                choices=(("pending", "Pending"), ("denied", "Denied")),
            ),
        ),
    )


VIOLATION = Kind(
    key="violation",
    label="Violation",
    description="A policy violation, once its appeal in Seller Center was denied or has been "
    "pending for 72 hours.",
    sections=(
        Section(
            "Violation",
            (
                FieldSpec("violation_type", "Violation type", required=True),
                FieldSpec("reason", "Reason", required=True, max_length=1000),
                FieldSpec("enforcement_type", "Enforcement type", required=True),
                FieldSpec(
                    "violation_details",
                    "Details",
                    FieldType.LONG_TEXT,
                    required=True,
                    max_length=5000,
                ),
                FieldSpec("record_id", "Record id", required=True, max_length=128),
                FieldSpec(
                    "record_created_at",
                    "Create time",
                    FieldType.DATETIME,
                    required=True,
                    help=PAST,
                ),
                FieldSpec(
                    "related_to",
                    "Related to",
                    FieldType.CHOICE,
                    required=True,
                    choices=(
                        ("live", "Live sale"),
                        ("products", "Products"),
                        ("order", "Order"),
                        ("shipping", "Shipping"),
                        ("account", "Account"),
                        ("other", "Something else"),
                    ),
                ),
            ),
        ),
        _appeal_section(appeal_id_from="record_id", appealed_required=True),
        Section(
            "Screenshots",
            (
                FieldSpec(
                    "violation_screenshots",
                    "The violation",
                    FieldType.FILES,
                    required=True,
                    help=IMAGES_OR_PDF,
                ),
                FieldSpec(
                    "appeal_screenshots",
                    "The appeal",
                    FieldType.FILES,
                    required_when=("appealed", (YES,)),
                    help=IMAGES_OR_PDF,
                ),
                FieldSpec(
                    "shipping_manifest",
                    "Shipping manifest",
                    FieldType.FILES,
                    required_when=("related_to", ("shipping",)),
                    help="Required when the violation is about shipping. " + IMAGES_OR_PDF,
                ),
            ),
        ),
        NOTES,
    ),
    headline=("violation_type", "record_id"),
    wait_rule=WaitRule(hours=72, unappealed_anchor=None),
)


LIVE = Kind(
    key="live",
    label="Live",
    description="Products or comments not shown during a live.",
    sections=(
        Section(
            "Problem",
            (
                problem(
                    ("products_not_shown", "Products not shown"),
                    ("comments_not_shown", "Comments not shown"),
                ),
            ),
        ),
        Section(
            "Live",
            (
                FieldSpec(
                    "live_at", "Live date and time", FieldType.DATETIME, required=True, help=PAST
                ),
            ),
        ),
        screenshots_section(),
        NOTES,
    ),
    headline=("problem", "live_at"),
)

ACCOUNT_AUTHORIZATION = Kind(
    key="account_authorization",
    label="Account authorization",
    description="Authorization renewals and errors connecting a Shop or Creator account.",
    sections=(
        Section(
            "Problem",
            (
                problem(
                    ("renewal", "Authorization renewal"),
                    ("connect_error", "Error connecting"),
                ),
            ),
        ),
        Section(
            "Account",
            (
                FieldSpec(
                    "account_types",
                    "Account type",
                    FieldType.MULTI_CHOICE,
                    required=True,
                    choices=(("shop", "Shop"), ("creator", "Creator")),
                ),
                FieldSpec("account_email", "Account e-mail", FieldType.EMAIL, required=True),
                FieldSpec(
                    "error_message",
                    "Error message",
                    FieldType.LONG_TEXT,
                    required=True,
                    help=ERROR_HELP,
                    prefill="store.authorization_error",
                    max_length=5000,
                ),
            ),
        ),
        screenshots_section(),
        NOTES,
    ),
    headline=("problem", "account_email"),
)

LINKED_ACCOUNTS = Kind(
    key="linked_accounts",
    label="Linked accounts",
    description="A creator account that will not link to the shop.",
    sections=(
        Section(
            "Creator account",
            (
                FieldSpec("creator_name", "Creator account name", required=True),
                FieldSpec(
                    "creator_email", "Creator account e-mail", FieldType.EMAIL, required=True
                ),
                FieldSpec(
                    "error_message",
                    "Error message",
                    FieldType.LONG_TEXT,
                    required=True,
                    help=ERROR_HELP,
                    max_length=5000,
                ),
            ),
        ),
        screenshots_section(),
        NOTES,
    ),
    headline=("creator_name",),
)

APPLICATION = Kind(
    key="application",
    label="Application",
    description="A rejected or pending shop application.",
    sections=(
        Section(
            "Application",
            (
                FieldSpec(
                    "application_date",
                    "Application date",
                    FieldType.DATETIME,
                    required=True,
                    help=PAST,
                ),
                FieldSpec(
                    "application_status",
                    "Application status",
                    FieldType.CHOICE,
                    required=True,
                    choices=(("rejected", "Rejected"), ("pending", "Pending")),
                ),
                FieldSpec(
                    "application_reason",
                    "Reason",
                    FieldType.LONG_TEXT,
                    required=True,
                    help="The reason TikTok gave, or why the application needs a look.",
                    max_length=2000,
                ),
            ),
        ),
        _appeal_section(appeal_id_from=None, appealed_required=True),
        Section(
            "Screenshots",
            (
                FieldSpec(
                    "application_screenshots",
                    "The application",
                    FieldType.FILES,
                    help=IMAGES_OR_PDF,
                ),
                FieldSpec(
                    "appeal_screenshots",
                    "The appeal",
                    FieldType.FILES,
                    required_when=("appealed", (YES,)),
                    help=IMAGES_OR_PDF,
                ),
            ),
        ),
        NOTES,
    ),
    headline=("application_status", "application_date"),
    # Not appealed (a pending application): 72 hours from the application itself.
    wait_rule=WaitRule(hours=72, unappealed_anchor="application_date"),
)
