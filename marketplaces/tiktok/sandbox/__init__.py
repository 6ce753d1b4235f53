"""TikTok Shop sandbox: a separate process that speaks the Partner API contract.

A second, independent reading of docs/tiktok-shop-api.md: it shares only `signing.py` with the
client and never imports Django, the client, `mapping/` or the product's models. Product code
never imports it; `make run`, tests (tests/tiktok_sandbox.py) and benchmarks start it:

    python -m marketplaces.tiktok.sandbox serve --port 9100 --data var/sandbox.sqlite3
    python -m marketplaces.tiktok.sandbox seed --data F [--seed S --orders-per-day N --days D]
    python -m marketplaces.tiktok.sandbox credentials --data F

Layout: db (schema), seed, model (object shapes and status rules), events (changes + webhook
outbox), auth (codes, tokens), app (WSGI, checks, faults), api / cs (contract endpoints), pages
(auth host, consent, buyer page), control (/_sandbox/), live (background loop), server (gunicorn).
"""
