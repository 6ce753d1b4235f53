"""The seams between the apps, checked on the source: a forbidden import anywhere in a module (at
the top, inside a function, relative or absolute) fails here.

- `inbox/` and `orders/` know channels only through `marketplaces` (the adapter, the channel
  interface and its error vocabulary), never through `marketplaces.tiktok`;
- `tenants/` is the bottom of the stack: it imports no app above it;
- `triage/` sits on `inbox/`, which never imports it (a signal tells triage of new messages);
- product code never imports the sandbox, and the sandbox (an independent reading of the
  contract) imports nothing of the product but `signing.py`;
- only `email_channel/` knows IMAP and SMTP, and nothing below it imports it (it registers itself
  as a channel); product code never imports its local test servers (`email_channel.localmail`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SANDBOX = "marketplaces.tiktok.sandbox"
PRODUCT_PACKAGES = (
    "config",
    "tenants",
    "marketplaces",
    "orders",
    "inbox",
    "escalations",
    "triage",
    "email_channel",
)
LOCALMAIL = "email_channel.localmail"
# Mail protocols and their clients: the e-mail channel's own business.
MAIL_LIBRARIES = ("imaplib", "imap_tools", "smtplib", "aiosmtpd", "pymap")
MAIL_PROTOCOLS = (*MAIL_LIBRARIES, "email_channel")

# (package whose modules are checked, forbidden module prefixes, why)
RULES = [
    (
        "inbox",
        ("marketplaces.tiktok", *MAIL_PROTOCOLS),
        "inbox/ talks to channels through marketplaces' interface",
    ),
    (
        "orders",
        ("marketplaces.tiktok", *MAIL_PROTOCOLS),
        "orders/ talks to channels through marketplaces' interface",
    ),
    ("marketplaces", MAIL_PROTOCOLS, "marketplaces/ knows e-mail only through the registry"),
    ("sla", MAIL_PROTOCOLS, "sla/ knows no channel"),
    ("api", MAIL_LIBRARIES, "api/ registers the channel's viewset, never speaks mail itself"),
    (
        "email_channel",
        ("marketplaces.tiktok",),
        "the e-mail channel knows TikTok as little as inbox/ does",
    ),
    (
        "tenants",
        ("inbox", "orders", "marketplaces", "escalations", "triage", "email_channel"),
        "tenants/ imports no app above it",
    ),
    (
        "inbox",
        ("triage",),
        "triage builds on inbox; inbox knows it only through its signal (inbox.signals)",
    ),
    ("triage", ("marketplaces",), "triage reads messages and tickets, never a channel"),
    (
        "escalations",
        ("marketplaces.tiktok",),
        "escalations/ knows stores and orders through marketplaces, orders and inbox",
    ),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imported_modules(source: str, module: str, *, is_package: bool = False) -> Iterator[str]:
    """Every module `source` (the text of `module`) imports or names as an import string."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            yield target
            # `from marketplaces import tiktok` imports the subpackage.
            yield from (f"{target}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and "." in node.value
            and node.value.replace(".", "").replace("_", "").isalnum()
        ):
            yield node.value  # importlib.import_module("...") and other module paths as text


def forbidden(names: Iterator[str], prefixes: tuple[str, ...]) -> list[str]:
    return sorted(
        {
            name
            for name in names
            if any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)
        }
    )


def python_files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def violations(package: str, prefixes: tuple[str, ...], *, skip: str = "") -> list[str]:
    found = []
    for path in python_files(package):
        module = module_name(path)
        if skip and (module == skip or module.startswith(skip + ".")):
            continue
        names = imported_modules(path.read_text(), module, is_package=path.name == "__init__.py")
        found += [f"{path.relative_to(ROOT)}: {name}" for name in forbidden(names, prefixes)]
    return found


@pytest.mark.parametrize(("package", "prefixes", "why"), RULES, ids=[r[0] for r in RULES])
def test_apps_import_only_what_their_layer_may(package, prefixes, why):
    assert violations(package, prefixes) == [], why


def test_product_code_never_imports_the_sandbox():
    found = []
    for package in PRODUCT_PACKAGES:
        found += violations(package, (SANDBOX,), skip=SANDBOX)
    # config/localenv.py starts the sandbox as a separate process (`python -m ...`): a command
    # line, not an import.
    found = [line for line in found if not line.startswith("config/localenv.py:")]
    assert found == []


def test_product_code_never_imports_the_local_mail_servers():
    found = []
    for package in PRODUCT_PACKAGES:
        found += violations(package, (LOCALMAIL,), skip=LOCALMAIL)
    assert found == []


def test_the_sandbox_imports_nothing_of_the_product_but_signing():
    product = tuple(PRODUCT_PACKAGES)
    found = []
    for path in python_files(SANDBOX.replace(".", "/")):
        module = module_name(path)
        names = imported_modules(path.read_text(), module, is_package=path.name == "__init__.py")
        for name in forbidden(names, product):
            if name.startswith(SANDBOX) or name.startswith("marketplaces.tiktok.signing"):
                continue
            if name in ("marketplaces", "marketplaces.tiktok"):
                continue  # the parents of the two allowed modules
            found.append(f"{path.relative_to(ROOT)}: {name}")
    assert found == []


def test_the_checker_finds_every_form_of_a_forbidden_import():
    source = """
import os
from marketplaces import channel
from marketplaces import tiktok
from ..tiktok.errors import ServerError

def late():
    from marketplaces.tiktok.client import TikTokClient
    import importlib
    return importlib.import_module("marketplaces.tiktok.mapping")
"""
    names = imported_modules(source, "marketplaces.sub.module")
    assert forbidden(names, ("marketplaces.tiktok",)) == [
        "marketplaces.tiktok",
        "marketplaces.tiktok.client",
        "marketplaces.tiktok.client.TikTokClient",
        "marketplaces.tiktok.errors",
        "marketplaces.tiktok.errors.ServerError",
        "marketplaces.tiktok.mapping",
    ]
    clean = "from marketplaces.channel import ChannelError\nfrom .models import Store\n"
    assert forbidden(imported_modules(clean, "inbox.outbox"), ("marketplaces.tiktok",)) == []
