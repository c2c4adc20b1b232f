"""One self-contained HTML page for a DR lead to read and share: charts (verdicts, blockers by
area and by ASR error code, quota needed against free per VM family), a VM table to search,
filter and sort, and for each VM its findings, its planned target and its network path to each
endpoint, drawn hop by hop. Inline CSS, SVG and a little script; nothing from the network. It is
rendered on the server side, so it reads without script and prints whole."""

from __future__ import annotations

from collections import Counter, defaultdict
from html import escape

from asr_preflight.engine import CheckResult, concerns, scope_index
from asr_preflight.findings import Finding, Status
from asr_preflight.fix.plan import build_fix_plan
from asr_preflight.knowledge.regions import display
from asr_preflight.report.model import Report
from asr_preflight.rules.networking import ExplainVm, explain_network

NETWORK_PATHS_UP_TO = 2_000  # VMs whose paths are drawn; beyond, `explain network` has them
_COLOURS = {  # contrast of 4.5:1 or more against white, for text and bars alike
    "ready": "#1a7f37",
    "blocked": "#b42318",
    "unknown": "#8a5a00",
    "protected": "#0b5cad",
    "fail": "#b42318",
    "warn": "#8a5a00",
    "unknown-status": "#6b4fbb",
    "pass": "#1a7f37",
}

_CSS = """
:root{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1f2328;line-height:1.4}
body{margin:0 auto;max-width:1200px;padding:1rem 1.5rem}
h1{font-size:1.5rem;margin:.2rem 0}h2{font-size:1.2rem;margin-top:2rem}
.meta{color:#57606a}.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(270px,1fr));gap:1rem}
figure{margin:0;border:1px solid #d0d7de;border-radius:6px;padding:.6rem}
figcaption{font-weight:600;margin-bottom:.3rem}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3rem .5rem;
border-bottom:1px solid #d0d7de;vertical-align:top}
th button{all:unset;cursor:pointer;font-weight:600}th button:focus{outline:2px solid #0969da}
.verdict{font-weight:600}.v-ready{color:#1a7f37}.v-blocked{color:#b42318}
.v-unknown{color:#8a5a00}.v-protected{color:#0b5cad}
.controls{display:flex;gap:1rem;flex-wrap:wrap;margin:.5rem 0}
.detail td{background:#f6f8fa}.finding{margin:.2rem 0}.s-fail{color:#b42318}
.s-warn{color:#8a5a00}.s-unknown{color:#6b4fbb}
.path{display:flex;flex-wrap:wrap;align-items:center;gap:.3rem;margin:.3rem 0}
.hop{border:1px solid #8c959f;border-radius:4px;padding:.15rem .4rem;background:#fff;
font-size:.85rem}
.hop.allowed{border-color:#1a7f37}.hop.blocked{border-color:#b42318;border-width:2px}
.arrow{color:#57606a}.dest{font-weight:600;min-width:10rem}
code{font-size:.85rem;word-break:break-all}
@media print{.controls,th button::after{display:none}.detail{display:table-row!important}
body{max-width:none}figure{break-inside:avoid}}
"""

_SCRIPT = """
(function(){
const rows=[...document.querySelectorAll('#vms tbody tr.vm')];
const search=document.getElementById('search'),verdict=document.getElementById('verdict');
function apply(){const q=search.value.trim().toLowerCase(),v=verdict.value;let shown=0;
 for(const r of rows){const ok=(!q||r.dataset.text.includes(q))&&(!v||r.dataset.verdict===v);
  r.hidden=!ok;const d=document.getElementById(r.dataset.detail);if(!ok)d.hidden=true;
  else if(r.querySelector('button').getAttribute('aria-expanded')==='true')d.hidden=false;
  if(ok)shown++;}
 document.getElementById('shown').textContent=shown+' of '+rows.length+' VMs shown';}
search.addEventListener('input',apply);verdict.addEventListener('change',apply);
for(const b of document.querySelectorAll('#vms tbody button.toggle')){
 b.addEventListener('click',()=>{
 const open=b.getAttribute('aria-expanded')!=='true';b.setAttribute('aria-expanded',String(open));
 document.getElementById(b.getAttribute('aria-controls')).hidden=!open;});}
const body=document.querySelector('#vms tbody');
for(const [i,h] of [...document.querySelectorAll('#vms thead th')].entries()){
 const b=h.querySelector('button');if(!b)continue;b.addEventListener('click',()=>{
  const asc=h.getAttribute('aria-sort')!=='ascending';
  for(const o of document.querySelectorAll('#vms thead th'))o.removeAttribute('aria-sort');
  h.setAttribute('aria-sort',asc?'ascending':'descending');
  const sorted=rows.slice().sort((a,c)=>{
   const x=a.children[i].textContent,y=c.children[i].textContent;
   return (asc?1:-1)*x.localeCompare(y,undefined,{numeric:true});});
  for(const r of sorted){body.appendChild(r);
   body.appendChild(document.getElementById(r.dataset.detail));}});}
apply();})();
"""


def render(result: CheckResult, report: Report) -> str:
    s = report.summary
    ctx = result.context
    title = f"ASR readiness: {display(s.source_region)} → {display(s.target_region)}"
    by_vm = _findings_by_vm(result)
    plans = {p.id.lower(): p for p in ctx.plan.target.vms}
    paths = (
        {ids_key(v.id): v for v in explain_network(ctx)}
        if len(ctx.vms) <= NETWORK_PATHS_UP_TO
        else {}
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<header><h1>{escape(title)}</h1>",
        f'<p class="meta">{s.vms} VMs · snapshot {escape(s.snapshot.origin)} · generated '
        f"{escape(report.generated_at)} by asr-preflight {escape(report.tool_version)}</p>",
        f'<p id="counts">{_counts(report)}</p></header><main>',
        '<section aria-labelledby="charts-h"><h2 id="charts-h">At a glance</h2>',
        '<div class="charts">',
        _bar_chart(
            "chart-verdicts",
            "VMs by verdict",
            [(v.value, n, _COLOURS[v.value]) for v, n in s.verdicts.items() if n],
        ),
        _bar_chart("chart-areas", "Failing findings by area", _blockers_by_area(result)),
        _bar_chart("chart-codes", "Failing findings by ASR error code", _blockers_by_code(result)),
        _quota_chart(result),
        "</div></section>",
        _vm_table(result, by_vm, plans, paths),
        _fix_section(result),
        _problems(report),
        f"</main><script>{_SCRIPT}</script></body></html>",
    ]
    return "\n".join(parts) + "\n"


def ids_key(resource_id: str) -> str:
    return resource_id.rstrip("/").lower()


def _counts(report: Report) -> str:
    s = report.summary
    verdicts = " · ".join(
        f'<span class="verdict v-{v.value}">{v.value} {n}</span>' for v, n in s.verdicts.items()
    )
    waived = f" · {s.waived} finding(s) waived" if s.waived else ""
    return f"{verdicts}{waived}"


def _findings_by_vm(result: CheckResult) -> dict[str, list[Finding]]:
    index = scope_index([*result.context.vms, *result.context.protected_vms])
    out: dict[str, list[Finding]] = defaultdict(list)
    for finding in result.findings:
        if finding.status is not Status.PASS:
            for key in concerns(finding, index):
                out[key].append(finding)
    return out


def _blockers_by_area(result: CheckResult) -> list[tuple[str, int, str]]:
    counts = Counter(
        f.area.value for f in result.findings if f.status is Status.FAIL and not f.waived
    )
    return [(area, n, _COLOURS["fail"]) for area, n in counts.most_common()]


def _blockers_by_code(result: CheckResult) -> list[tuple[str, int, str]]:
    counts = Counter(
        str(f.asr_error_code)
        for f in result.findings
        if f.status is Status.FAIL and not f.waived and f.asr_error_code
    )
    return [(code, n, _COLOURS["fail"]) for code, n in counts.most_common(12)]


def _bar_chart(chart_id: str, caption: str, bars: list[tuple[str, int, str]]) -> str:
    """Horizontal bars with their values written out: readable without colour, and in print."""
    if not bars:
        return (
            f'<figure id="{chart_id}"><figcaption>{escape(caption)}</figcaption>'
            "<p>None.</p></figure>"
        )
    top = max(n for _, n, _ in bars) or 1
    height = 24 * len(bars) + 8
    rows = []
    for i, (label, n, colour) in enumerate(bars):
        y = 4 + 24 * i
        width = max(2, round(150 * n / top))
        rows.append(
            f'<g class="bar" data-label="{escape(label)}" data-value="{n}">'
            f'<text x="0" y="{y + 15}" font-size="12">{escape(label)}</text>'
            f'<rect x="100" y="{y}" width="{width}" height="18" fill="{colour}"></rect>'
            f'<text x="{104 + width}" y="{y + 15}" font-size="12">{n}</text></g>'
        )
    summary = ", ".join(f"{label}: {n}" for label, n, _ in bars)
    return (
        f'<figure id="{chart_id}"><figcaption>{escape(caption)}</figcaption>'
        f'<svg role="img" aria-label="{escape(caption)}: {escape(summary)}" width="100%" '
        f'viewBox="0 0 300 {height}"><title>{escape(summary)}</title>{"".join(rows)}</svg>'
        "</figure>"
    )


def _quota_chart(result: CheckResult) -> str:
    """Per VM family in the target region: vCPUs the plan needs against vCPUs free."""
    asks = [
        a
        for a in result.context.plan.target.quota
        if a.quota.lower().endswith("family") and a.needed
    ]
    caption = "vCPU quota per VM family: needed / free"
    if not asks:
        return f'<figure id="chart-quota"><figcaption>{caption}</figcaption><p>None.</p></figure>'
    top = max(max(a.needed, (a.limit or 0) - (a.current or 0)) for a in asks) or 1
    several = len({a.subscription for a in asks}) > 1
    rows = []
    for i, ask in enumerate(asks):
        label = f"{ask.quota} ({ask.subscription[:8]}…)" if several else ask.quota
        free = None if ask.limit is None or ask.current is None else ask.limit - ask.current
        y = 4 + 44 * i
        needed_w = max(2, round(150 * ask.needed / top))
        free_w = max(2, round(150 * (free or 0) / top))
        colour = _COLOURS["fail"] if ask.state == "short" else _COLOURS["pass"]
        rows.append(
            f'<g class="quota" data-family="{escape(ask.quota)}" data-needed="{ask.needed}" '
            f'data-free="{"" if free is None else free}">'
            f'<text x="0" y="{y + 12}" font-size="10">{escape(label)}</text>'
            f'<rect x="0" y="{y + 16}" width="{needed_w}" height="9" fill="{colour}"></rect>'
            f'<text x="{4 + needed_w}" y="{y + 25}" font-size="10">needed {ask.needed}</text>'
            f'<rect x="0" y="{y + 28}" width="{free_w}" height="9" fill="#8c959f"></rect>'
            f'<text x="{4 + free_w}" y="{y + 37}" font-size="10">'
            f"free {'?' if free is None else free}</text></g>"
        )
    summary = ", ".join(f"{a.quota}: needed {a.needed}" for a in asks)
    return (
        f'<figure id="chart-quota"><figcaption>{caption}</figcaption>'
        f'<svg role="img" aria-label="{escape(summary)}" width="100%" '
        f'viewBox="0 0 240 {44 * len(asks) + 8}"><title>{escape(summary)}</title>'
        f"{''.join(rows)}</svg></figure>"
    )


def _vm_table(result, by_vm, plans, paths) -> str:
    out = [
        '<section aria-labelledby="vms-h"><h2 id="vms-h">Virtual machines</h2>',
        '<div class="controls"><label>Search <input id="search" type="search" '
        'placeholder="name, group, rule…"></label>',
        '<label>Verdict <select id="verdict"><option value="">all</option>',
        *(
            f'<option value="{v}">{v}</option>'
            for v in ("ready", "blocked", "unknown", "protected")
        ),
        '</select></label><span id="shown" aria-live="polite"></span></div>',
        '<table id="vms"><caption class="meta">Select a VM for its findings, target and '
        "network paths.</caption><thead><tr>",
        *(
            f'<th scope="col"><button type="button">{name}</button></th>'
            for name in ("VM", "Resource group", "Verdict", "Target size", "Target zone", "Why")
        ),
        '<th scope="col"><span class="meta">Details</span></th></tr></thead><tbody>',
    ]
    for n, verdict in enumerate(result.verdicts):
        vm = verdict.vm
        plan = plans.get(vm.key)
        detail = f"detail-{n}"
        text = " ".join((vm.name, vm.resource_group, verdict.verdict.value, *verdict.blocking))
        out.append(
            f'<tr class="vm" data-verdict="{verdict.verdict.value}" '
            f'data-text="{escape(text.lower())}" data-detail="{detail}">'
            f"<td>{escape(vm.name)}</td><td>{escape(vm.resource_group)}</td>"
            f'<td class="verdict v-{verdict.verdict.value}">{verdict.verdict.value}</td>'
            f"<td>{escape((plan.target_size or plan.choice) if plan else '-')}</td>"
            f"<td>{escape((plan.target_zone or '-') if plan else '-')}</td>"
            f"<td>{escape(', '.join(verdict.blocking)) or '-'}</td>"
            f'<td><button type="button" class="toggle" aria-expanded="false" '
            f'aria-controls="{detail}">Details<span class="meta"> of {escape(vm.name)}</span>'
            "</button></td></tr>"
        )
        out.append(
            f'<tr class="detail" id="{detail}" hidden><td colspan="7">'
            f"{_drill_down(by_vm.get(vm.key, []), plan, paths.get(vm.key))}</td></tr>"
        )
    out.append("</tbody></table></section>")
    return "\n".join(out)


def _drill_down(findings: list[Finding], plan, path: ExplainVm | None) -> str:
    parts = ["<h3>Findings</h3>"]
    if not findings:
        parts.append("<p>Every check passes.</p>")
    for f in sorted(findings, key=lambda f: (f.status.value, f.rule)):
        waived = f" (waived: {escape(f.waiver.reason)})" if f.waived and f.waiver else ""
        fix = f"<br>Fix: <code>{escape(f.remedy)}</code>" if f.remedy else ""
        code = f" [{f.asr_error_code}]" if f.asr_error_code else ""
        parts.append(
            f'<p class="finding s-{f.status.value}"><strong>{f.status.value.upper()}</strong> '
            f"{escape(f.rule)}{code}{waived}: {escape(f.message)}{fix}</p>"
        )
    if plan is not None:
        disks = ", ".join(sorted({d.replica_sku or "not replicated" for d in plan.disks}))
        parts.append(
            "<h3>Planned target</h3><p>"
            f"size {escape(plan.target_size or plan.choice)} ({escape(plan.reason)}); zone "
            f"{escape(plan.target_zone or '-')}; resource group "
            f"{escape(plan.target_resource_group)}; network "
            f"{escape(', '.join(plan.target_virtual_networks) or '-')}; replica disks "
            f"{escape(disks or '-')}</p>"
        )
    if path is not None:
        parts.append("<h3>Network path to each endpoint</h3>")
        for p in path.paths:
            hops = ['<span class="hop">VM</span>']
            for step in p.steps:
                state = (
                    "blocked" if "block" in step.decision or "deny" in step.decision else "allowed"
                )
                hops.append(
                    f'<span class="arrow" aria-hidden="true">→</span><span class="hop {state}" '
                    f'title="{escape(step.detail)}">{escape(step.hop)}'
                    f"{': ' + escape(step.name) if step.name else ''} — "
                    f"{escape(step.decision)}</span>"
                )
            parts.append(
                f'<div class="path" data-destination="{escape(p.destination)}">'
                f'<span class="dest">{escape(p.destination)} ({escape(p.decision)})</span>'
                f"{''.join(hops)}</div>"
            )
    return "".join(parts)


def _fix_section(result: CheckResult) -> str:
    """What `asr-preflight fix --script` would do, step by step, and how much it leaves."""
    plan = build_fix_plan([result])
    if not plan.steps and not plan.stuck:
        return ""
    steps = "".join(
        f"<li>{escape(s.action.title)} <small>({escape(', '.join(s.rules))})</small></li>"
        for s in plan.steps
    )
    left = len({(s.finding.rule, s.finding.resource_id) for s in plan.stuck})
    return (
        '<section aria-labelledby="fix-h"><h2 id="fix-h">What fix would do</h2>'
        f"<p><code>asr-preflight fix … --script fix.sh</code> writes {len(plan.steps)} steps; "
        f"{left} failing findings need a person (their remedies above say what to do).</p>"
        f'<ol id="fix-steps">{steps}</ol></section>'
    )


def _problems(report: Report) -> str:
    s = report.summary
    if not (s.input_problems or s.collection_errors):
        return ""
    items = [
        f"<li>{escape(p.file)}: {escape(p.path)}: {escape(p.expected)}</li>"
        for p in s.input_problems[:200]
    ] + [
        f"<li>collection error {escape(e.scope)}: {escape(e.call)}: {escape(e.message)}</li>"
        for e in s.collection_errors
    ]
    return (
        '<section aria-labelledby="problems-h"><h2 id="problems-h">What could not be read</h2>'
        f"<ul>{''.join(items)}</ul></section>"
    )
