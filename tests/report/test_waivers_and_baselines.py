"""Waivers accept a known gap for a while, never hiding it; a baseline and `diff` say what
changed since an earlier run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from test_formats import EXAMPLE, QUESTION, cli


def _check(*extra: str) -> tuple[int, dict]:
    done = cli("check", *QUESTION, "--output", "json", *extra)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


def _verdicts(report: dict) -> dict[str, str]:
    return {v["name"]: v["verdict"] for v in report["vms"]}


def _waivers(tmp_path: Path, *entries: tuple[str, str, str]) -> str:
    path = tmp_path / "waivers.toml"
    path.write_text(
        "".join(
            f'[[waiver]]\nrule = "{rule}"\nresource = "{resource}"\n'
            f'reason = "accepted by the DR board"\nexpires = {expires}\n\n'
            for rule, resource, expires in entries
        )
    )
    return str(path)


def test_a_waived_blocker_is_shown_and_counted_but_blocks_nothing(tmp_path):
    waivers = _waivers(tmp_path, ("ASR-VM-006", "*/vm-tiny-01", "2099-01-01"))
    _, before = _check()
    _, after = _check("--waivers", waivers)
    assert _verdicts(before)["vm-tiny-01"] == "blocked"
    assert _verdicts(after)["vm-tiny-01"] == "ready"
    [waived] = [f for f in after["findings"] if f.get("waiver")]
    assert waived["rule"] == "ASR-VM-006" and waived["status"] == "fail"  # never hidden
    assert waived["waiver"] == {
        "reason": "accepted by the DR board",
        "expires": "2099-01-01",
        "expired": False,
    }
    assert after["summary"]["waived"] == 1
    assert after["summary"]["statuses"] == before["summary"]["statuses"]  # still counted
    others = {k: v for k, v in _verdicts(after).items() if k != "vm-tiny-01"}
    assert others == {k: v for k, v in _verdicts(before).items() if k != "vm-tiny-01"}


def test_an_expired_waiver_blocks_again_and_says_so(tmp_path):
    waivers = _waivers(tmp_path, ("ASR-VM-006", "*vm-tiny-01", "2020-01-01"))
    _, report = _check("--waivers", waivers)
    assert _verdicts(report)["vm-tiny-01"] == "blocked"
    [marked] = [f for f in report["findings"] if f.get("waiver")]
    assert marked["waiver"]["expired"] is True and report["summary"]["waived"] == 0


def test_waiving_every_failure_exits_0_and_the_table_shows_them(tmp_path):
    waivers = _waivers(tmp_path, ("ASR-*", "*", "2099-01-01"))
    code, report = _check("--waivers", waivers)
    assert code == 0 and "blocked" not in set(_verdicts(report).values())
    table = " ".join(cli("check", *QUESTION, "--waivers", waivers, "--details").stdout.split())
    assert "WAIVED until 2099-01-01 (decides nothing until then): accepted by the DR board" in (
        table
    )


def test_a_bad_waivers_file_is_one_line_naming_it(tmp_path):
    path = tmp_path / "waivers.toml"
    path.write_text('[[waiver]]\nrule = "ASR-VM-006"\nresource = "*"\nreason = "x"\n')
    done = cli("check", *QUESTION, "--waivers", str(path))
    assert done.returncode == 2 and str(path) in done.stderr and "expires" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_baseline_says_what_is_new_changed_and_fixed(tmp_path):
    estate = tmp_path / "estate"
    shutil.copytree(EXAMPLE, estate)
    old = tmp_path / "old.json"
    question = ["--snapshot", str(estate), *QUESTION[2:]]
    cli("check", *question, "--output", "json", "--out", str(old))
    # fix one thing (the tiny VM gets a real size), break another (the dev provider list goes)
    vms = json.loads((estate / "vms-prod.json").read_text())
    next(v for v in vms if v["name"] == "vm-tiny-01")["hardwareProfile"]["vmSize"] = (
        "Standard_D2s_v5"
    )
    (estate / "vms-prod.json").write_text(json.dumps(vms))
    (estate / "providers-dev.json").unlink()
    done = cli("check", *question, "--output", "json", "--baseline", str(old))
    changes = json.loads(done.stdout)["changes"]
    assert changes["baseline"].startswith(str(old))
    assert any(c["rule"] == "ASR-VM-006" and c["after"] is None for c in changes["fixed"])
    assert any(
        c["rule"] == "ASR-SUB-002" and (c["before"], c["after"]) == ("fail", "unknown")
        for c in changes["changed"]
    )
    new = tmp_path / "new.json"
    new.write_text(done.stdout)
    diff = cli("diff", str(old), str(new))
    assert "fixed (" in diff.stdout and "ASR-VM-006" in diff.stdout
    assert cli("diff", str(old), str(old)).stdout.strip().endswith("nothing changed")
    assert cli("diff", str(old), str(old)).returncode == 0
    as_json = json.loads(cli("diff", str(old), str(new), "--output", "json").stdout)
    assert as_json["fixed"] == changes["fixed"]
