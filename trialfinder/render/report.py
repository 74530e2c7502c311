"""Change reports in every format: HTML (one self-contained page), email (MIME), and the rest.

The page uses tables and inline styles only: no scripts, no external assets. Trial text is
untrusted, so it is rendered by Jinja2 with autoescaping on. The email is a complete message
with a plain-text (markdown) part and the HTML part, ready for `sendmail -t`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from trialfinder.render.changes import (
    KIND_LABELS,
    headline,
    render_csv,
    render_json,
    render_markdown,
    site_line,
)
from trialfinder.render.formats import check_report_format
from trialfinder.watch.runner import Report

_TEMPLATE = """\
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title></head>
<body style="font-family: Arial, Helvetica, sans-serif; color: #222; max-width: 760px;">
{% for report in reports %}
<h2 style="font-size: 18px; margin: 16px 0 4px;">{{ headline(report) }}</h2>
<p style="color: #555; margin: 0 0 8px;">Data as of {{ report.data_timestamp or "unknown" }}
(ClinicalTrials.gov).</p>
{% if report.classifier_note %}
<p style="color: #555;">Note: {{ report.classifier_note }}.</p>
{% endif %}
{% for change in report.changes %}
<table role="presentation" style="border-collapse: collapse; width: 100%; margin: 10px 0;
  border: 1px solid #ddd;">
<tr><td colspan="3" style="background: {{ '#fdf2e9' if change.material else '#f4f4f4' }};
  padding: 6px 8px;">
<a href="{{ change.url }}" style="color: #0b5cab; font-weight: bold;">{{ change.nct_id }}</a>
{{ change.title }}<br>
<span style="color: #555;">{{ kinds[change.kind] }}{% if not change.material %}
 (administrative only){% endif %}{% if change.reason %}: {{ change.reason }}{% endif %}</span>
</td></tr>
{% for field in change.fields %}
<tr><td style="{{ cell }} width: 22%; color: #555;">{{ field.field }}</td>
<td style="{{ cell }} white-space: pre-wrap;">{{ field.old or "(none)" }}</td>
<td style="{{ cell }} white-space: pre-wrap;">{{ field.new or "(none)" }}</td></tr>
{% endfor %}
{% for site in change.sites %}
<tr><td style="padding: 4px 8px; color: #555;">site</td>
<td colspan="2" style="padding: 4px 8px;">{{ site_line(site) }}</td></tr>
{% endfor %}
</table>
{% endfor %}
{% endfor %}
<p style="color: #777; font-size: 12px;">This is not medical advice. Data: ClinicalTrials.gov,
U.S. National Library of Medicine (NLM); NLM does not endorse this tool.</p>
</body></html>
"""


def render_html(reports: Sequence[Report]) -> str:
    """The reports as one HTML page (escaped, inline styles, no scripts or external assets)."""
    import jinja2

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    template = env.from_string(_TEMPLATE)
    title = "; ".join(headline(r) for r in reports) or "trialfinder report"
    return template.render(
        reports=reports,
        title=title,
        headline=headline,
        kinds=KIND_LABELS,
        site_line=site_line,
        cell="padding: 4px 8px; vertical-align: top;",
    )


def subject(reports: Sequence[Report]) -> str:
    """A mail subject: the watches and what changed."""
    changed = [r for r in reports if r.changes]
    if not changed:
        return "trialfinder: nothing changed"
    names = ", ".join(r.watch for r in changed)
    count = sum(len(r.changes) for r in changed)
    return f"trialfinder: {count} change(s) in {names}"


def render_email(
    reports: Sequence[Report], *, to: str | None = None, now: dt.datetime | None = None
) -> str:
    """A complete MIME message with text and HTML parts (`to` fills the To: header)."""
    message = EmailMessage()
    if to:
        message["To"] = to
    message["Subject"] = subject(reports)
    message["From"] = "trialfinder <trialfinder@localhost>"
    message["Date"] = format_datetime(now or dt.datetime.now(dt.timezone.utc))
    message["Message-ID"] = make_msgid(domain="trialfinder.localhost")
    message.set_content(render_markdown(reports))
    message.add_alternative(render_html(reports), subtype="html")
    return message.as_string()


def render_report(reports: Sequence[Report], fmt: str, *, mail_to: str | None = None) -> str:
    """The reports in one of REPORT_FORMATS (`mail_to` sets the email's To: header)."""
    fmt = check_report_format(fmt)
    if fmt == "json":
        return render_json(reports)
    if fmt == "csv":
        return render_csv(reports)
    if fmt == "html":
        return render_html(reports)
    if fmt == "email":
        return render_email(reports, to=mail_to)
    return render_markdown(reports)
