"""A self-contained page for reading the events, and flat tables for pandas and spreadsheets.

The page is one HTML file with its data, style and script inline (no server, no network): a table of
actions (deduplicated events) with filters by province, type, year and cross-check verdict; each row
opens its sentences with the trigger, sources, targets and amounts highlighted. Export: one row per
event (mention) as CSV and Parquet, participants joined with ' | ' and the full record in a JSON column.
"""

from __future__ import annotations

import csv
import html
import io
import json
from pathlib import Path
from typing import Any

from vnreorg.jsonio import write_atomic

ROLE_CLASSES = {"trigger": "t", "sources": "s", "targets": "g", "amounts": "a"}


def _atomic_write(path: Path, data: bytes) -> None:
    write_atomic(path, data)


def provinces_of(event: dict[str, Any]) -> list[str]:
    out = []
    for slot in ("sources", "targets"):
        for p in event.get(slot) or []:
            link = p.get("link") or {}
            if link.get("status") == "linked" and link.get("province"):
                out.append(link["province"])
    return sorted(set(out))


def year_of(event: dict[str, Any]) -> str:
    for key in ("event_date", "article_date"):
        if event.get(key):
            return str(event[key])[:4]
    return ""


def _marks(event: dict[str, Any], mention: dict[str, Any]) -> list[list[Any]]:
    """Highlights as [start, end, class] relative to the mention's sentence (only the first mention's
    participants are known by offset; other mentions highlight their trigger)."""
    s0 = (mention.get("sentence") or {}).get("start") or 0
    marks = [[mention["trigger_start"] - s0, mention["trigger_end"] - s0, "t"]]
    if mention["event_id"] == event["event_id"]:
        for slot in ("sources", "targets", "amounts"):
            for p in event.get(slot) or []:
                if p.get("start") is not None and p.get("end") is not None:
                    marks.append([p["start"] - s0, p["end"] - s0, ROLE_CLASSES[slot]])
    return marks


def page_rows(actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for n, ev in enumerate(actions):
        verdict = (ev.get("crosscheck") or {}).get("verdict") or "none"
        rows.append(
            {
                "n": n,
                "type": ev["type"],
                "year": year_of(ev),
                "provinces": provinces_of(ev),
                "verdict": verdict,
                "trigger": ev["trigger"],
                "sources": [p["name"] + _code(p) for p in ev.get("sources") or []],
                "targets": [p["name"] + _code(p) for p in ev.get("targets") or []],
                "amounts": [a["text"] for a in ev.get("amounts") or []],
                "why": (ev.get("crosscheck") or {}).get("why") or "",
                "official": [
                    r["old"] + " → " + r["new"] for rec in (ev.get("crosscheck") or {}).get("official") or [] for r in rec
                ],
                "mentions": [
                    {
                        "doc": m["doc_id"],
                        "outlet": m.get("outlet") or "",
                        "date": m.get("article_date") or "",
                        "text": (m.get("sentence") or {}).get("text", ""),
                        "marks": _marks(ev, m),
                    }
                    for m in ev.get("mentions") or []
                ],
            }
        )
    return rows


def _code(p: dict[str, Any]) -> str:
    link = p.get("link") or {}
    return f" [{link['code']}, {link['era']}]" if link.get("status") == "linked" else ""


_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1em;color:#222}
#filters{display:flex;gap:1em;flex-wrap:wrap;margin-bottom:.8em}
label{font-weight:600}select{margin-left:.3em}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}
tr.ev{cursor:pointer}tr.ev:hover{background:#f5f7fb}
.v-confirmed{color:#176f2c;font-weight:600}.v-contradicted{color:#b00020;font-weight:600}.v-not_covered{color:#777}
tr.detail td{background:#fafafa}.sent{margin:.3em 0}.meta{color:#666;font-size:12px}
mark.t{background:#f6c1c1}mark.s{background:#c6dbf7}mark.g{background:#c8ecc8}mark.a{background:#e3d3f3}
#count{color:#555;margin-left:auto}
"""

_SCRIPT = r"""
const rows = JSON.parse(document.getElementById('data').textContent);
const sel = id => document.getElementById(id);
function fill(id, values){const s=sel(id);[...new Set(values)].filter(v=>v!=='').sort().forEach(v=>{const o=document.createElement('option');o.value=v;o.textContent=v;s.appendChild(o);});}
fill('f-province', rows.flatMap(r=>r.provinces)); fill('f-type', rows.map(r=>r.type));
fill('f-year', rows.map(r=>r.year)); fill('f-verdict', rows.map(r=>r.verdict));
function esc(t){return t.replace(/[&<>"]/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]));}
function highlight(text, marks){
  const cps=[...text]; const cls=new Array(cps.length).fill('');
  for(const [a,b,c] of marks){for(let i=Math.max(0,a);i<Math.min(b,cps.length);i++){if(!cls[i]||c==='t')cls[i]=c;}}
  let out='',cur='';
  for(let i=0;i<cps.length;i++){if(cls[i]!==cur){if(cur)out+='</mark>';if(cls[i])out+='<mark class="'+cls[i]+'">';cur=cls[i];}out+=esc(cps[i]);}
  if(cur)out+='</mark>'; return out;
}
function render(){
  const p=sel('f-province').value,t=sel('f-type').value,y=sel('f-year').value,v=sel('f-verdict').value;
  const body=sel('rows'); body.innerHTML=''; let n=0;
  for(const r of rows){
    if(p&&!r.provinces.includes(p))continue; if(t&&r.type!==t)continue; if(y&&r.year!==y)continue; if(v&&r.verdict!==v)continue;
    n++;
    const tr=document.createElement('tr'); tr.className='ev'; tr.dataset.n=r.n;
    tr.innerHTML='<td>'+esc(r.type)+'</td><td>'+esc(r.year)+'</td><td>'+esc(r.sources.join('; '))+'</td><td>'+esc(r.targets.join('; '))+
      '</td><td>'+esc(r.amounts.join('; '))+'</td><td>'+esc(r.provinces.join(', '))+'</td><td class="v-'+r.verdict+'">'+esc(r.verdict)+'</td><td>'+r.mentions.length+'</td>';
    const det=document.createElement('tr'); det.className='detail'; det.hidden=true;
    det.innerHTML='<td colspan="8">'+(r.why?'<div class="meta">'+esc(r.why)+'</div>':'')+
      r.official.map(o=>'<div class="meta">official: '+esc(o)+'</div>').join('')+
      r.mentions.map(m=>'<div class="sent">'+highlight(m.text,m.marks)+'<div class="meta">'+esc(m.doc)+' · '+esc(m.outlet)+' '+esc(m.date)+'</div></div>').join('')+'</td>';
    tr.addEventListener('click',()=>{det.hidden=!det.hidden;});
    body.appendChild(tr); body.appendChild(det);
  }
  sel('count').textContent=n+' of '+rows.length+' events';
}
['f-province','f-type','f-year','f-verdict'].forEach(id=>sel(id).addEventListener('change',render));
render();
"""


def render_page(actions: list[dict[str, Any]], title: str = "Restructuring events") -> str:
    data = json.dumps(page_rows(actions), ensure_ascii=False).replace("</", "<\\/")
    filters = "".join(
        f'<label>{name}<select id="f-{key}"><option value="">all</option></select></label>'
        for key, name in (("province", "Province"), ("type", "Type"), ("year", "Year"), ("verdict", "Official record"))
    )
    head = "".join(
        f"<th>{h}</th>" for h in ("type", "year", "sources", "targets", "amounts", "provinces", "official record", "mentions")
    )
    return (
        f'<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
        f'<div id="filters">{filters}<span id="count"></span></div>'
        f'<table><thead><tr>{head}</tr></thead><tbody id="rows"></tbody></table>'
        f'<p class="meta">Highlights: <mark class="t">trigger</mark> <mark class="s">source</mark> '
        f'<mark class="g">target</mark> <mark class="a">amount</mark>. Click a row for its sentences.</p>'
        f'<script id="data" type="application/json">{data}</script><script>{_SCRIPT}</script></body></html>'
    )


def write_page(actions: list[dict[str, Any]], path: str | Path) -> Path:
    path = Path(path)
    _atomic_write(path, render_page(actions).encode("utf-8"))
    return path


EXPORT_COLUMNS = (
    "event_id",
    "doc_id",
    "type",
    "trigger",
    "sources",
    "targets",
    "amounts",
    "source_codes",
    "target_codes",
    "provinces",
    "event_date",
    "article_date",
    "outlet",
    "verdict",
    "action_id",
    "sentence",
    "sentence_start",
    "trigger_start",
    "trigger_end",
    "confidence",
    "record",
)


def flat_rows(events: list[dict[str, Any]], actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    action_of = {m["event_id"]: a["event_id"] for a in actions for m in a.get("mentions") or []}

    def codes(ps):
        return " | ".join(p["link"]["code"] for p in ps if (p.get("link") or {}).get("status") == "linked")

    rows = []
    for ev in events:
        rows.append(
            {
                "event_id": ev["event_id"],
                "doc_id": ev["doc_id"],
                "type": ev["type"],
                "trigger": ev["trigger"],
                "sources": " | ".join(p["name"] for p in ev["sources"]),
                "targets": " | ".join(p["name"] for p in ev["targets"]),
                "amounts": " | ".join(a["text"] for a in ev["amounts"]),
                "source_codes": codes(ev["sources"]),
                "target_codes": codes(ev["targets"]),
                "provinces": " | ".join(provinces_of(ev)),
                "event_date": ev.get("event_date") or "",
                "article_date": ev.get("article_date") or "",
                "outlet": ev.get("outlet") or "",
                "verdict": (ev.get("crosscheck") or {}).get("verdict") or "",
                "action_id": action_of.get(ev["event_id"], ev["event_id"]),
                "sentence": ev["sentence"]["text"],
                "sentence_start": ev["sentence"]["start"],
                "trigger_start": ev["trigger_start"],
                "trigger_end": ev["trigger_end"],
                "confidence": ev.get("confidence"),
                "record": json.dumps(ev, ensure_ascii=False),
            }
        )
    return rows


def write_csv(rows: list[dict[str, Any]], path: str | Path) -> Path:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(EXPORT_COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    _atomic_write(Path(path), buf.getvalue().encode("utf-8"))
    return Path(path)


def write_parquet(rows: list[dict[str, Any]], path: str | Path) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema(
        [
            (
                c,
                pa.float64()
                if c == "confidence"
                else pa.int64()
                if c in ("sentence_start", "trigger_start", "trigger_end")
                else pa.string(),
            )
            for c in EXPORT_COLUMNS
        ]
    )
    table = pa.Table.from_pylist(rows, schema=schema)
    path = Path(path)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    _atomic_write(path, sink.getvalue().to_pybytes())
    return path
