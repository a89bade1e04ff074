"""pve-sim driven by a second, independent client: Debian's python3-proxmoxer (1.2).

Run by proxmoxer.test.ts against a zones-6node pve-sim on a fast realtime clock. It logs in the
way proxmoxer does (username with its realm, no separate realm), lists the cluster, runs a
container through its life cycle and calls the read methods monitoring and balancing tools use.
Each step asserts what a real PVE 9.1 node answers; the script prints one JSON report on stdout
and exits non-zero at the first step that does not hold.
"""

import json
import os
import sys
import time

from proxmoxer import ProxmoxAPI
from proxmoxer.core import ResourceException

HOST = os.environ["PVE_HOST"]
PORT = int(os.environ["PVE_PORT"])
CA = os.environ["PVE_CA_FILE"]
TOKEN_USER, TOKEN_NAME = os.environ["PVE_TOKEN_ID"].split("!")
TOKEN_SECRET = os.environ["PVE_TOKEN_SECRET"]
RO_USER, RO_NAME = os.environ["PVE_RO_TOKEN_ID"].split("!")
RO_SECRET = os.environ["PVE_RO_TOKEN_SECRET"]
ROOT_PASSWORD = os.environ["PVE_ROOT_PASSWORD"]
TEMPLATE = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"
NODE, TARGET, VMID = "pve-a1", "pve-a2", 1900

report = {}


def check(name, ok, detail=""):
    report[name] = bool(ok)
    if not ok:
        report["failed"] = "%s: %s" % (name, detail)
        print(json.dumps(report))
        sys.exit(1)


def wait(api, node, upid, timeout=60):
    """Polls a task until it stops (the sim runs fast); returns its final status."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        st = api.nodes(node).tasks(upid).status.get()
        if st["status"] == "stopped":
            return st
        time.sleep(0.1)
    raise RuntimeError("task %s still running" % upid)


def error_of(call):
    try:
        call()
    except ResourceException as err:
        return err.status_code, str(err.content)
    return None, None


# ---- login ------------------------------------------------------------------------------------
ticket = ProxmoxAPI(HOST, port=PORT, user="root@pam", password=ROOT_PASSWORD, verify_ssl=CA)
check("ticket login", ticket.version.get()["release"] == "9.1")
check("ticket is for root@pam", ticket.get_tokens()[0].startswith("PVE:root@pam:"))
try:
    ProxmoxAPI(HOST, port=PORT, user="root", password=ROOT_PASSWORD, verify_ssl=CA)
    check("a bare user name is refused", False, "logged in as 'root'")
except Exception as err:  # proxmoxer raises AuthenticationError on a 401
    check("a bare user name is refused", "Couldn't authenticate" in str(err), str(err))

api = ProxmoxAPI(HOST, port=PORT, user=TOKEN_USER, token_name=TOKEN_NAME, token_value=TOKEN_SECRET, verify_ssl=CA)
ro = ProxmoxAPI(HOST, port=PORT, user=RO_USER, token_name=RO_NAME, token_value=RO_SECRET, verify_ssl=CA)

# ---- listing ----------------------------------------------------------------------------------
nodes = api.nodes.get()
check("six nodes", sorted(n["node"] for n in nodes) == ["pve-a1", "pve-a2", "pve-b1", "pve-b2", "pve-c1", "pve-c2"])
resources = api.cluster.resources.get(type="vm")
kinds = {r["type"] for r in resources}
check("containers and VMs in /cluster/resources", kinds == {"lxc", "qemu"}, repr(kinds))
report["qemu ids"] = sorted(r["id"] for r in resources if r["type"] == "qemu")
check("node status", api.nodes(NODE).status.get()["cpuinfo"]["cpus"] == 32)
check("pools", [p["poolid"] for p in api.pools.get()] == ["dns", "mail", "web"])

# ---- the read side ----------------------------------------------------------------------------
perms = ro.access.permissions.get()
check("read-only permissions", set(perms["/"]) == {
    "Datastore.Audit", "Mapping.Audit", "Pool.Audit", "SDN.Audit", "Sys.Audit", "VM.Audit", "VM.GuestAgent.Audit",
}, repr(perms.get("/")))
check("node version", api.nodes(NODE).version.get()["release"] == "9.1")
ha = api.cluster.ha.status.current.get()
check("ha status", [e["type"] for e in ha][:2] == ["quorum", "master"] and ha[-1]["sid"] == "vm:401", repr(ha))
rules = api.cluster.ha.rules.get()
check("ha rules", [r["rule"] for r in rules] == ["gitlab-in-zone-c"], repr(rules))
check("ha resource", api.cluster.ha.resources("vm:401").get()["state"] == "started")
check("cluster options", api.cluster.options.get()["mac_prefix"] == "BC:24:11")
vm = api.nodes("pve-c1").qemu(401)
check("qemu list", [v["vmid"] for v in api.nodes("pve-c1").qemu.get()] == [401])
check("qemu status", vm.status.current.get()["qmpstatus"] == "running")
check("qemu config", vm.config.get()["name"] == "gitlab")
check("qemu rrddata", len(vm.rrddata.get(timeframe="day")) == 1440)
check("netstat", any(r["vmid"] == "401" for r in api.nodes("pve-c1").netstat.get()))
check("a VM is not a container", error_of(lambda: api.nodes("pve-c1").lxc(401).status.current.get())[0] == 500)
check("VM tasks are not implemented", error_of(lambda: vm.status.start.post())[0] == 501)

# ---- a container's life cycle ---------------------------------------------------------------
upid = api.nodes(NODE).lxc.create(vmid=VMID, ostemplate=TEMPLATE, hostname="fidelity", memory=512, swap=0,
                                  cores=1, rootfs="local-lvm:2", net0="name=eth0,bridge=vmbr0,ip=dhcp")
check("create", wait(api, NODE, upid)["exitstatus"] == "OK")
ct = api.nodes(NODE).lxc(VMID)
cfg = ct.config.get()
check("net0 stored as PVE stores it", cfg["net0"].startswith("name=eth0,bridge=vmbr0,hwaddr=BC:24:11:")
      and cfg["net0"].endswith(",ip=dhcp,type=veth"), cfg["net0"])
check("pending", {"key": "hostname", "value": "fidelity"} in ct.pending.get())
check("start", wait(api, NODE, ct.status.start.post())["exitstatus"] == "OK")
check("running", ct.status.current.get()["status"] == "running")
check("already running is a 500", error_of(lambda: ct.status.start.post()) == (500, "CT %d already running" % VMID))
check("resize", ct.config.put(memory=768, digest=cfg["digest"]) is None and ct.config.get()["memory"] == 768)
check("read-only token may not stop", error_of(lambda: ro.nodes(NODE).lxc(VMID).status.stop.post())[0] == 403)
check("shutdown", wait(api, NODE, ct.status.shutdown.post(timeout=30))["exitstatus"] == "OK")
check("migrate", wait(api, NODE, ct.migrate.post(target=TARGET))["exitstatus"] == "OK")
moved = [r for r in api.cluster.resources.get(type="vm") if r["vmid"] == VMID]
check("on the target", moved and moved[0]["node"] == TARGET, repr(moved))
check("destroy", wait(api, TARGET, api.nodes(TARGET).lxc(VMID).delete(purge=1))["exitstatus"] == "OK")
check("gone", not any(r["vmid"] == VMID for r in api.cluster.resources.get(type="vm")))

report["ok"] = True
print(json.dumps(report))
