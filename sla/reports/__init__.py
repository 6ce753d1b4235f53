"""Reports (/reports/, /api/v1/reports/): response rate, first response times, SLA attainment,
volume, backlog, handle time and the buyer messages' intents (as triage labelled them), read
from daily rollups that a task keeps (`rollup`), never from a scan of messages per page view.

- `rollup`: computes a day's rows from messages and tickets (the task's work);
- `figures`: sums the rows into tables (the page's charts, the CSV exports, the API);
- `params`: the filters from a query string; `charts`: the SVG; `views`, `api`: the endpoints.
"""
