"""The dashboard page: VIP status, the ratio-emergency indicator, the download queue with
quality scores, seeding statistics, events and the rules version — one server-rendered
HTML page with no scripts, every value escaped. Imports the standard library and
``app.status``."""

from __future__ import annotations

from html import escape
from typing import Any

from mamcrawler.app.web.status import StatusBoard
from mamcrawler.engine.records import DecisionRecord

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;background:#fafafa;color:#222}
h1{font-size:1.4rem} section{background:#fff;border:1px solid #ddd;border-radius:6px;padding:1rem;margin:1rem 0}
.ok{color:#176117}.warn{color:#8a5300}.bad{color:#a40000;font-weight:bold}
table{border-collapse:collapse} td,th{padding:.2rem .6rem;border-bottom:1px solid #eee;text-align:left}
"""


def _kv(data: dict[str, Any]) -> str:
    rows = "".join(f"<tr><th>{escape(str(k))}</th><td>{escape(str(v))}</td></tr>" for k, v in data.items())
    return f"<table>{rows}</table>"


def render_dashboard(board: StatusBoard, records: list[DecisionRecord]) -> str:
    vip, ratio, torrents = board.vip_status(), board.ratio_status(), board.torrent_status()
    if ratio.get("critical"):  # a blocked tracker: what to fix, never a ratio emergency
        indicator = f'<p class="bad">Tracker blocked: {escape(str(ratio.get("fix")))}</p>'
    elif not ratio.get("known"):
        indicator = '<p class="warn">Ratio unknown (no cycle yet or the tracker is unreachable).</p>'
    elif ratio.get("emergency"):
        indicator = '<p class="bad">RATIO EMERGENCY — below the floor.</p>'
    elif ratio.get("downloads_frozen"):
        indicator = '<p class="warn">Paid downloads frozen (at or near the floor).</p>'
    else:
        indicator = '<p class="ok">Ratio healthy.</p>'
    vip_line = (
        ('<p class="bad">VIP AT RISK</p>' if vip.get("at_risk") else '<p class="ok">VIP safe</p>')
        if vip.get("known")
        else '<p class="warn">VIP status unknown.</p>'
    )
    queue = (
        "".join(
            f"<tr><td>{escape(q['book'])}</td><td>{escape(q['reason'])}</td>"
            f"<td>{escape(', '.join(f'{k}={v}' for k, v in q['quality'].items()))}</td></tr>"
            for q in board.queue()
        )
        or "<tr><td colspan=3>nothing queued</td></tr>"
    )
    events = (
        "".join(
            f"<li>{escape(e['kind'])} {escape(e['title'])} {'(active)' if e['active'] else ''}</li>"
            for e in board.events().get("events", [])
        )
        or "<li>none</li>"
    )
    rules = board.rules_version()
    report = board.compliance_report(records, now=records[-1].decided_at) if records else {}
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>mamcrawler</title>
<style>{_STYLE}</style></head><body><h1>mamcrawler</h1>
<p>Autonomous: <b>{"on" if board.autonomous() else "off (dry run)"}</b></p>
<section><h2>VIP</h2>{vip_line}{_kv(vip)}</section>
<section><h2>Ratio</h2>{indicator}{_kv(ratio)}</section>
<section><h2>Download queue</h2><table><tr><th>book</th><th>why</th><th>quality</th></tr>{queue}</table></section>
<section><h2>Seeding</h2>{_kv(torrents)}</section>
<section><h2>Events</h2><ul>{events}</ul></section>
<section><h2>Rules</h2>{_kv(rules)}</section>
<section><h2>Last 30 days</h2>{_kv(report)}</section>
</body></html>"""
