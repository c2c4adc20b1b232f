"""ASR-VM-101/102/103 over the test estate (tests/builders.py): pass, fail, unknown, and the
skip that lists VMs whose guest facts lack the probe's sections."""

from __future__ import annotations

import pytest

from builders import statuses

UUID_GRUB = {
    "files": [
        {"path": "/etc/default/grub", "readable": True, "device_refs": [], "lvm_refs": []},
        {
            "path": "/boot/grub2/grub.cfg",
            "readable": True,
            "device_refs": [],
            "lvm_refs": ["rootvg/rootlv"],
        },
    ],
    "lvm_volumes": [{"volume": "rootvg/rootlv", "exists": True}],
}


def _fs(path, device, disks, same=True, fstype="xfs"):
    return {
        "path": path,
        "exists": True,
        "mount_point": "/" if same else path,
        "device": device,
        "fstype": fstype,
        "same_device_as_root": same,
        "disks": disks,
    }


ON_OS_DISK = [
    _fs("/", "/dev/sda1", ["sda"], fstype="ext4"),
    _fs("/boot", "/dev/sda2", ["sda"], same=False),
    {"path": "/usr/local", "exists": False},
    _fs("/var", "/dev/mapper/rootvg-varlv", ["sda"], same=False),
]


def _linux(estate, **sections):
    estate.files["guest/vm1.json"].update(sections)
    return estate


# --- ASR-VM-101 GRUB ----------------------------------------------------------------------


def test_grub_by_uuid_passes(estate, tmp_path):
    [finding] = _linux(estate, grub=UUID_GRUB).run(tmp_path, "ASR-VM-101")
    assert finding.status == "pass" and "/boot/grub2/grub.cfg" in finding.message


def test_no_grub_files_passes(estate, tmp_path):
    findings = _linux(estate, grub={"files": [], "lvm_volumes": []}).run(tmp_path, "ASR-VM-101")
    assert statuses(findings) == ["pass"]


def test_grub_device_name_fails_151126(estate, tmp_path):
    grub = {
        "files": [
            {
                "path": "/boot/grub/grub.cfg",
                "readable": True,
                "device_refs": ["root=/dev/sda1", "resume=/dev/sdb2"],
                "lvm_refs": [],
            }
        ],
        "lvm_volumes": [],
    }
    [finding] = _linux(estate, grub=grub).run(tmp_path, "ASR-VM-101")
    assert (finding.status, finding.asr_error_code) == ("fail", 151126)
    assert "/boot/grub/grub.cfg: root=/dev/sda1, resume=/dev/sdb2" in finding.message
    assert "root=UUID=" in finding.remedy


def test_missing_lvm_volume_fails_151124(estate, tmp_path):
    grub = {**UUID_GRUB, "lvm_volumes": [{"volume": "rootvg/rootlv", "exists": False}]}
    [finding] = _linux(estate, grub=grub).run(tmp_path, "ASR-VM-101")
    assert (finding.status, finding.asr_error_code) == ("fail", 151124)


def test_unreadable_grub_is_unknown(estate, tmp_path):
    grub = {
        "files": [
            {"path": "/boot/grub2/grub.cfg", "readable": False, "device_refs": [], "lvm_refs": []}
        ],
        "lvm_volumes": [],
    }
    [finding] = _linux(estate, grub=grub).run(tmp_path, "ASR-VM-101")
    assert finding.status == "unknown" and "could not read /boot/grub2/grub.cfg" in finding.message
    assert "as root" in finding.remedy


def test_facts_without_grub_are_unknown(estate, tmp_path):
    [finding] = estate.run(tmp_path, "ASR-VM-101")  # builders' facts predate the probe sections
    assert finding.status == "unknown" and finding.resource_id.endswith("/vm1")
    assert "asr-preflight guest" in finding.remedy


def test_no_guest_facts_is_unknown(estate, tmp_path):
    estate.drop("guest/vm1.json")
    assert [f.status for f in estate.run(tmp_path, "ASR-VM-101")] == ["unknown"]


def test_windows_vm_is_not_judged_on_grub(estate, tmp_path):
    estate.files["guest/vm1.json"]["os"] = {"family": "windows", "version": "10.0.20348"}
    assert [f.status for f in estate.run(tmp_path, "ASR-VM-101")] == ["skip"]


# --- ASR-VM-102 Windows services -----------------------------------------------------------


def _windows(estate, services):
    estate.files["guest/vm1.json"]["os"] = {
        "family": "windows",
        "distro_id": "windows",
        "version": "10.0.20348",
        "pretty_name": "Windows Server 2022 Datacenter",
    }
    estate.files["guest/vm1.json"]["services"] = [
        {"name": name, "display_name": name, "start_type": start, "error": None}
        for name, start in services.items()
    ]
    return estate


def test_services_manual_or_automatic_pass(estate, tmp_path):
    [finding] = _windows(estate, {"COMSysApp": "demand", "VSS": "auto"}).run(tmp_path, "ASR-VM-102")
    assert finding.status == "pass" and "Volume Shadow Copy: auto" in finding.message


def test_disabled_service_fails_151025(estate, tmp_path):
    [finding] = _windows(estate, {"COMSysApp": "disabled", "VSS": "demand"}).run(
        tmp_path, "ASR-VM-102"
    )
    assert (finding.status, finding.asr_error_code) == ("fail", 151025)
    assert finding.message == "COM+ System Application (COMSysApp) is disabled"
    assert "sc config COMSysApp start= demand" in finding.remedy


def test_unread_service_is_unknown(estate, tmp_path):
    [finding] = _windows(estate, {"COMSysApp": "auto", "VSS": None}).run(tmp_path, "ASR-VM-102")
    assert finding.status == "unknown" and "Volume Shadow Copy" in finding.message


def test_linux_vm_is_not_judged_on_windows_services(estate, tmp_path):
    assert [f.status for f in estate.run(tmp_path, "ASR-VM-102")] == ["skip"]


@pytest.mark.parametrize(
    ("mode", "status"),
    [("missing", "pass"), ("disabled", "pass"), ("auto", "fail"), ("demand", "fail")],
)
def test_storage_replica_installed_fails_as_the_2026_matrix_says(estate, tmp_path, mode, status):
    services = {"COMSysApp": "demand", "VSS": "demand", "StorageReplica": mode}
    [finding] = _windows(estate, services).run(tmp_path, "ASR-VM-104")
    assert finding.status == status
    if status == "fail":
        assert "Uninstall-WindowsFeature Storage-Replica" in finding.remedy


def test_storage_replica_not_read_by_an_older_probe_is_unknown(estate, tmp_path):
    services = {"COMSysApp": "demand", "VSS": "demand"}
    [finding] = _windows(estate, services).run(tmp_path, "ASR-VM-104")
    assert finding.status == "unknown" and "older than this check" in finding.message


# --- ASR-VM-103 OS filesystems ---------------------------------------------------------------


def test_os_filesystems_on_the_os_disk_pass(estate, tmp_path):
    [finding] = _linux(estate, filesystems=ON_OS_DISK).run(tmp_path, "ASR-VM-103")
    assert finding.status == "pass" and finding.message == "/, /boot, /var on the OS disk (sda)"


def test_var_on_a_data_disk_only_warns_citing_the_2017_matrix(estate, tmp_path):
    """Neither the 2025 nor the 2026 support matrix keeps the 2017 rule (newer wins)."""
    layout = [*ON_OS_DISK[:3], _fs("/var", "/dev/sdc1", ["sdc"], same=False)]
    [finding] = _linux(estate, filesystems=layout).run(tmp_path, "ASR-VM-103")
    assert finding.status == "warn"
    assert finding.message.startswith("not on the OS disk (sda): /var (/dev/sdc1) is on sdc")
    assert "SM-2017a" in finding.message


def test_undetermined_disk_is_unknown(estate, tmp_path):
    layout = [*ON_OS_DISK[:3], _fs("/var", "/dev/mapper/x", None, same=None)]
    [finding] = _linux(estate, filesystems=layout).run(tmp_path, "ASR-VM-103")
    assert finding.status == "unknown" and "/var (/dev/mapper/x)" in finding.message


def test_unsupported_filesystem_type_warns(estate, tmp_path):
    layout = [_fs("/", "/dev/sda1", ["sda"], fstype="zfs")]
    [finding] = _linux(estate, filesystems=layout).run(tmp_path, "ASR-VM-103")
    assert finding.status == "warn" and "zfs (/)" in finding.message
