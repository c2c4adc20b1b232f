"""OS facts from files below --root: os-release, GRUB, mounts and disks, the guest agent; and the
Windows paths (services, agent, certificate stores) with the OS calls replaced."""

from __future__ import annotations

import os
import ssl

import pytest
from guest_support import OS_RELEASE, run_probe, sha1_of, write

from asr_preflight.guest import probe


@pytest.mark.parametrize(
    ("release", "distro", "version"),
    [
        (OS_RELEASE["rhel"], "rhel", "8.6"),
        (OS_RELEASE["suse"], "sles", "15.5"),
        ('ID="ol"\nVERSION_ID="8.9"\nPRETTY_NAME="Oracle Linux Server 8.9"\n', "oracle", "8.9"),
        ('ID="almalinux"\nVERSION_ID="9.3"\n', "alma", "9.3"),
        ('ID=ubuntu\nVERSION_ID="22.04"\nPRETTY_NAME="Ubuntu 22.04.4 LTS"\n', "ubuntu", "22.04"),
    ],
)
def test_os_release(tmp_path, release, distro, version):
    write(tmp_path, "/etc/os-release", release)
    write(tmp_path, "/proc/sys/kernel/osrelease", "5.14.0-362.8.1.el9_3.x86_64\n")
    facts = run_probe(tmp_path, "--endpoint", "127.0.0.1:9")["os"]
    assert (facts["family"], facts["distro_id"], facts["version"]) == ("linux", distro, version)
    assert facts["kernel"] == "5.14.0-362.8.1.el9_3.x86_64"


def test_os_release_in_usr_lib_is_the_fallback(tmp_path):
    write(tmp_path, "/usr/lib/os-release", OS_RELEASE["debian"])
    facts = run_probe(tmp_path, "--endpoint", "127.0.0.1:9")
    assert facts["os"]["distro_id"] == "debian"
    assert not [e for e in facts["errors"] if e["scope"] == "os" and "os-release" in e["path"]]


GRUB_CFG = """\
# root=/dev/sda9 in a comment does not count
set root='hd0,msdos1'
menuentry 'Linux' {
    linux /vmlinuz-5.14 root=/dev/sda2 ro resume=UUID=0b1c rd.lvm.lv=rootvg/rootlv
    linux /vmlinuz-5.14 root=UUID=9f2e ro real_root=/dev/sdz1
}
"""


def test_grub_device_names_and_lvm_volumes(tmp_path):
    write(tmp_path, "/boot/grub2/grub.cfg", GRUB_CFG)
    write(
        tmp_path,
        "/etc/default/grub",
        'GRUB_CMDLINE_LINUX="crashkernel=auto resume=/dev/sdb1 rd.lvm.lv=rootvg/swap-lv"\n',
    )
    write(tmp_path, "/dev/mapper/rootvg-rootlv", "")  # exists; rootvg/swap-lv does not
    grub = run_probe(tmp_path, "--endpoint", "127.0.0.1:9")["grub"]
    assert grub["files"] == [
        {
            "path": "/boot/grub2/grub.cfg",
            "readable": True,
            "device_refs": ["root=/dev/sda2"],
            "lvm_refs": ["rootvg/rootlv"],
        },
        {
            "path": "/etc/default/grub",
            "readable": True,
            "device_refs": ["resume=/dev/sdb1"],
            "lvm_refs": ["rootvg/swap-lv"],
        },
    ]
    assert grub["lvm_volumes"] == [
        {"volume": "rootvg/rootlv", "exists": True},
        {"volume": "rootvg/swap-lv", "exists": False},
    ]


def test_grub_by_uuid_has_no_refs_and_menu_lst_counts(tmp_path):
    write(tmp_path, "/boot/grub/menu.lst", "kernel /vmlinuz root=UUID=0b1c resume=LABEL=swap\n")
    write(tmp_path, "/boot/grub/grub.cfg", "linux /vmlinuz root=/dev/mapper/vg-root ro\n")
    grub = run_probe(tmp_path, "--endpoint", "127.0.0.1:9")["grub"]
    assert [(f["path"], f["device_refs"]) for f in grub["files"]] == [
        ("/boot/grub/grub.cfg", []),
        ("/boot/grub/menu.lst", []),
    ]


def test_unreadable_grub_file_is_recorded(tmp_path, monkeypatch):
    """RHEL keeps grub.cfg readable by root only; the probe says it could not read it."""
    secret = write(tmp_path, "/boot/grub2/grub.cfg", "linux /vmlinuz root=/dev/sda2\n")
    real_open = os.open  # root reads any file: make this one refuse, as for a normal user

    def guarded(path, *args, **kwargs):
        if str(path) == str(secret):
            raise PermissionError(13, "Permission denied")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(probe.os, "open", guarded)
    facts = run_probe(tmp_path, "--endpoint", "127.0.0.1:9")
    assert facts["grub"]["files"] == [
        {"path": "/boot/grub2/grub.cfg", "readable": False, "device_refs": [], "lvm_refs": []}
    ]
    assert {"scope": "grub", "path": "/boot/grub2/grub.cfg", "message": "Permission denied"} in (
        facts["errors"]
    )


def _disks(root) -> None:
    """sda (OS disk: sda1 /, sda2 as LVM for /usr), sdb (data disk holding /var)."""
    write(
        root,
        "/proc/mounts",
        "/dev/sda1 / ext4 rw 0 0\nproc /proc proc rw 0 0\n"
        "/dev/mapper/rootvg-usrlv /usr xfs rw 0 0\n/dev/sdb1 /var xfs rw 0 0\n"
        "/dev/sda15 /boot/efi vfat rw 0 0\n",
    )
    for d in ("sys/block/sda/sda1", "sys/block/sda/sda2", "sys/block/sdb/sdb1", "boot", "etc"):
        (root / d).mkdir(parents=True, exist_ok=True)
    (root / "sys/block/dm-0/slaves").mkdir(parents=True)
    (root / "sys/block/dm-0/slaves/sda2").mkdir()
    write(root, "/dev/dm-0", "")
    (root / "dev/mapper").mkdir(parents=True)
    (root / "dev/mapper/rootvg-usrlv").symlink_to("../dm-0")
    (root / "usr/local").mkdir(parents=True)
    (root / "var").mkdir()


def test_filesystems_and_the_disks_they_sit_on(tmp_path):
    _disks(tmp_path)
    rows = {f["path"]: f for f in run_probe(tmp_path, "--endpoint", "127.0.0.1:9")["filesystems"]}
    assert rows["/"] | {"exists": True} == {
        "path": "/",
        "exists": True,
        "mount_point": "/",
        "device": "/dev/sda1",
        "fstype": "ext4",
        "same_device_as_root": True,
        "disks": ["sda"],
    }
    assert (rows["/boot"]["mount_point"], rows["/boot"]["same_device_as_root"]) == ("/", True)
    assert (rows["/usr"]["same_device_as_root"], rows["/usr"]["disks"]) == (False, ["sda"])
    assert (rows["/usr/local"]["mount_point"], rows["/usr/local"]["disks"]) == ("/usr", ["sda"])
    assert (rows["/var"]["fstype"], rows["/var"]["disks"]) == ("xfs", ["sdb"])
    assert rows["/etc"]["same_device_as_root"] is True


def test_without_proc_mounts_the_layout_is_unknown(tmp_path):
    (tmp_path / "var").mkdir()
    facts = run_probe(tmp_path, "--endpoint", "127.0.0.1:9")
    rows = {f["path"]: f for f in facts["filesystems"]}
    assert rows["/var"]["same_device_as_root"] is None
    assert rows["/boot"] == {"path": "/boot", "exists": False}
    assert {"scope": "filesystems", "path": "/proc/mounts", "message": "not found"} in (
        facts["errors"]
    )


def test_linux_agent_running_with_its_version(tmp_path):
    write(tmp_path, "/usr/sbin/waagent", "#!/usr/bin/python3\n")
    write(tmp_path, "/lib/systemd/system/walinuxagent.service", "[Unit]\n")
    write(tmp_path, "/proc/1/cmdline", b"/sbin/init\0")
    write(tmp_path, "/proc/812/cmdline", b"/usr/bin/python3\0-u\0/usr/sbin/waagent\0-daemon\0")
    write(
        tmp_path,
        "/proc/907/cmdline",
        b"python3\0-u\0bin/WALinuxAgent-2.9.1.1-py3.8.egg\0-run-exthandlers\0",
    )
    agent = run_probe(tmp_path, "--endpoint", "127.0.0.1:9")["agent"]
    assert (agent["present"], agent["running"], agent["version"]) == (True, True, "2.9.1.1")
    assert agent["files"] == ["/usr/sbin/waagent", "/lib/systemd/system/walinuxagent.service"]
    assert len(agent["processes"]) == 2


def test_linux_agent_installed_but_not_running(tmp_path):
    write(tmp_path, "/usr/sbin/waagent", "")
    write(tmp_path, "/proc/1/cmdline", b"/sbin/init\0")
    agent = run_probe(tmp_path, "--endpoint", "127.0.0.1:9")["agent"]
    assert (agent["present"], agent["running"]) == (True, False)


# --- Windows, with the OS calls replaced ---------------------------------------------------

SC_QC = """\
[SC] QueryServiceConfig SUCCESS

SERVICE_NAME: {name}
        TYPE               : 10  WIN32_OWN_PROCESS
        START_TYPE         : {code}   {label}
        ERROR_CONTROL      : 1   NORMAL
        BINARY_PATH_NAME   : C:\\Windows\\system32\\vssvc.exe
        DISPLAY_NAME       : Volume Shadow Copy
"""
SC_QUERY = """\
SERVICE_NAME: WindowsAzureGuestAgent
        TYPE               : 10  WIN32_OWN_PROCESS
        STATE              : 4  RUNNING
"""


def test_sc_output_parsing():
    assert probe.parse_sc_qc(SC_QC.format(name="VSS", code=3, label="DEMAND_START")) == "demand"
    assert probe.parse_sc_qc(SC_QC.format(name="VSS", code=4, label="DISABLED")) == "disabled"
    assert (
        probe.parse_sc_qc(SC_QC.format(name="X", code=2, label="AUTO_START  (DELAYED)")) == "auto"
    )
    assert probe.parse_sc_qc("[SC] OpenService FAILED 5:\n\nAccess is denied.") is None
    assert probe.parse_sc_query_state(SC_QUERY) == "running"


def test_windows_guest(monkeypatch, ca, tls_server):
    der = ssl.PEM_cert_to_DER_cert(ca.cert_pem.bytes().decode())
    stores = {"ROOT": [(der, "x509_asn", True)], "CA": [(b"\x30\x00", "x509_asn", True)]}
    commands = {
        ("sc", "qc", "COMSysApp"): (0, SC_QC.format(name="COMSysApp", code=4, label="DISABLED")),
        ("sc", "qc", "VSS"): (0, SC_QC.format(name="VSS", code=3, label="DEMAND_START")),
        # Storage Replica is not installed: sc answers 1060 (ERROR_SERVICE_DOES_NOT_EXIST)
        ("sc", "qc", "StorageReplica"): (
            1060,
            "[SC] OpenService FAILED 1060:\n\nThe specified service does not exist as an "
            "installed service.",
        ),
        ("sc", "query", "WindowsAzureGuestAgent"): (0, SC_QUERY),
    }
    monkeypatch.setattr(probe, "is_windows", lambda: True)
    monkeypatch.setattr(ssl, "enum_certificates", stores.__getitem__, raising=False)
    monkeypatch.setattr(probe, "run_command", lambda args, timeout: commands[tuple(args)])
    facts = run_probe(None, "--endpoint", f"localhost:{tls_server.port}", "--vm-name", "vm-app-01")
    assert facts["os"]["family"] == "windows" and facts["os"]["distro_id"] == "windows"
    assert facts["trusted_roots"]["sha1"] == [sha1_of(ca)]
    assert facts["trusted_roots"]["stores"] == ["Cert:\\LocalMachine\\Root"]
    assert facts["services"] == [
        {
            "name": "COMSysApp",
            "display_name": "COM+ System Application",
            "start_type": "disabled",
            "error": None,
        },
        {
            "name": "VSS",
            "display_name": "Volume Shadow Copy",
            "start_type": "demand",
            "error": None,
        },
        {
            "name": "StorageReplica",
            "display_name": "Storage Replica",
            "start_type": "missing",
            "error": None,
        },
    ]
    assert facts["agent"] == {"present": True, "running": True, "version": None, "state": "running"}
    assert "grub" not in facts and "filesystems" not in facts
    # TLS goes through Windows' own store (load_default_certs), which lacks the test CA here
    assert facts["endpoints"][0]["tls_verified"] is False


def test_windows_service_that_sc_cannot_read(monkeypatch):
    outputs = {
        "COMSysApp": (1060, "does not exist"),
        "VSS": (5, "[SC] OpenService FAILED 5:"),
        "StorageReplica": (1060, "does not exist"),
    }
    monkeypatch.setattr(probe, "run_command", lambda args, timeout: outputs[args[2]])
    services = probe.windows_services(probe.Guest(None), 1.0)
    assert [s["start_type"] for s in services] == ["missing", None, "missing"]
    assert services[1]["error"].startswith("sc qc VSS: [SC] OpenService FAILED 5")
