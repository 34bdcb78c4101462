"""The compat ``/info`` (compat/info.go): Docker's Info, built from
``podman info`` and the host's kernel capabilities (docker's ``sysinfo``,
read from /proc and the cgroup v1 hierarchy as podman reads them, so
podproxy must run on podman's host for those to match).

What only podman's own process knows is podproxy's own: ``NFd`` and
``NGoroutines`` (podproxy's open files and threads), ``ID`` (a new UUID
per answer, as podman's), ``SystemTime`` (now).
"""
from __future__ import annotations

import datetime
import os
import threading
import uuid

from ..services import services
from ..web.responses import json_response

# containers/common's default [engine.runtimes]: the first path of each
# (getRuntimes takes paths[0] whether it exists or not), with the behaviour
# (engine.versions) of the podman release whose c/common added it; None:
# already in podman 4.3.1's
RUNTIMES = (
    ("crun", "/usr/bin/crun", None),
    ("crun-vm", "/usr/bin/crun-vm", "compat_runtime_crun_vm"),
    ("crun-wasm", "/usr/bin/crun-wasm", "compat_runtimes_wasm_youki_ocijail"),
    ("kata", "/usr/bin/kata-runtime", None),
    ("krun", "/usr/bin/krun", None),
    ("ocijail", "/usr/local/bin/ocijail", "compat_runtimes_wasm_youki_ocijail"),
    ("runc", "/usr/bin/runc", None),
    ("runj", "/usr/local/bin/runj", None),
    ("runsc", "/usr/bin/runsc", None),
    ("youki", "/usr/local/bin/youki", "compat_runtimes_wasm_youki_ocijail"),
)


def runtimes(features) -> dict:
    """The running podman's default runtimes, in Go's map key order."""
    return {name: {"path": path} for name, path, since in RUNTIMES if since is None or features.has(since)}


def _exists(path: str) -> bool:
    return os.path.exists(path)


def _proc_flag(path: str) -> bool | None:
    try:
        with open(path) as f:
            return f.read().strip() != "0"
    except OSError:
        return None


def sysinfo() -> dict:
    """docker's ``sysinfo.New(true)`` on cgroup v1, the booleans compat
    info reports (a missing controller is False)."""
    cg = "/sys/fs/cgroup"
    mem, cpu = cg + "/memory/", cg + "/cpu/"
    forwarding = _proc_flag("/proc/sys/net/ipv4/ip_forward")
    return {
        "MemoryLimit": _exists(mem + "memory.limit_in_bytes"),
        "SwapLimit": _exists(mem + "memory.memsw.limit_in_bytes"),
        "OomKillDisable": _exists(mem + "memory.oom_control"),
        "CpuCfsPeriod": _exists(cpu + "cpu.cfs_period_us"),
        "CpuCfsQuota": _exists(cpu + "cpu.cfs_quota_us"),
        "CPUShares": _exists(cpu + "cpu.shares"),
        "CPUSet": _exists(cg + "/cpuset/cpuset.cpus"),
        "PidsLimit": _exists(cg + "/pids/pids.max") or _exists(cg + "/pids"),
        "IPv4Forwarding": bool(forwarding),
        "CPURealtimePeriod": _exists(cpu + "cpu.rt_period_us"),
        "CPURealtimeRuntime": _exists(cpu + "cpu.rt_runtime_us"),
    }


def _fd_count() -> int:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return 0


def _index_configs(registries: dict | None) -> dict:
    configs = {}
    for prefix, reg in sorted((registries or {}).items()):
        if not isinstance(reg, dict):
            continue  # "search": the unqualified-search list
        mirrors = [m.get("Location", "") for m in reg.get("Mirrors") or []]
        configs[prefix] = {"Name": prefix, "Mirrors": mirrors, "Secure": not reg.get("Insecure", False),
                           "Official": False}
    return configs


def info():
    system = services().system
    data = system.info()
    states = services().system.container_states()
    version = system.version()
    host, store = data.get("host", {}), data.get("store", {})
    plugins = data.get("plugins", {})
    sys = sysinfo()
    features = system.features()
    security = host.get("security", {})
    sec_opts = (["name=apparmor"] if security.get("apparmorEnabled") else []) + (
        ["name=seccomp,profile=default"] if security.get("seccompEnabled") else [])
    body = {
        "ID": str(uuid.uuid4()),
        "Containers": store.get("containerStore", {}).get("number", 0),
        "ContainersRunning": states.get("running", 0),
        "ContainersPaused": states.get("paused", 0),
        "ContainersStopped": states.get("stopped", 0) + states.get("exited", 0),
        "Images": store.get("imageStore", {}).get("number", 0),
        "Driver": store.get("graphDriverName", ""),
        "DriverStatus": [[k, v] for k, v in (store.get("graphStatus") or {}).items()],
        "Plugins": {"Volume": plugins.get("volume"), "Network": plugins.get("network"), "Authorization": None,
                    "Log": plugins.get("log")},
        "MemoryLimit": sys["MemoryLimit"],
        "SwapLimit": sys["SwapLimit"],
        "KernelMemory": False,
        "KernelMemoryTCP": False,
        "CpuCfsPeriod": sys["CpuCfsPeriod"],
        "CpuCfsQuota": sys["CpuCfsQuota"],
        "CPUShares": sys["CPUShares"],
        "CPUSet": sys["CPUSet"],
        "PidsLimit": sys["PidsLimit"],
        "IPv4Forwarding": sys["IPv4Forwarding"],
        "BridgeNfIptables": True,
        "BridgeNfIp6tables": True,
        "Debug": False,
        "NFd": _fd_count(),
        "OomKillDisable": sys["OomKillDisable"],
        "NGoroutines": threading.active_count(),
        "SystemTime": datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z"),
        "LoggingDriver": "",
        "CgroupDriver": host.get("cgroupManager", ""),
        "NEventsListener": 0,
        "KernelVersion": host.get("kernel", ""),
        "OperatingSystem": host.get("distribution", {}).get("distribution", ""),
        "OSVersion": host.get("distribution", {}).get("version", ""),
        "OSType": "linux",
        "Architecture": host.get("arch", ""),
        "IndexServerAddress": "",
        "RegistryConfig": {"AllowNondistributableArtifactsCIDRs": [], "AllowNondistributableArtifactsHostnames": [],
                           "InsecureRegistryCIDRs": [], "IndexConfigs": _index_configs(data.get("registries")),
                           "Mirrors": []},
        "NCPU": len(os.sched_getaffinity(0)),
        "MemTotal": host.get("memTotal", 0),
        "GenericResources": None,
        "DockerRootDir": store.get("graphRoot", ""),
        "HttpProxy": os.environ.get("http_proxy", ""),
        "HttpsProxy": os.environ.get("https_proxy", ""),
        "NoProxy": os.environ.get("no_proxy", ""),
        "Name": host.get("hostname", ""),
        "Labels": None,
        "ExperimentalBuild": True,
        "ServerVersion": version.get("Version", ""),
        "Runtimes": runtimes(features),
        "DefaultRuntime": host.get("ociRuntime", {}).get("name", ""),
        "Swarm": {"NodeID": "", "NodeAddr": "", "LocalNodeState": "inactive", "ControlAvailable": False, "Error": "",
                  "RemoteManagers": None},
        "LiveRestoreEnabled": False,
        "Isolation": "",
        "InitBinary": "",
        "ContainerdCommit": {"ID": "", "Expected": ""},
        "RuncCommit": {"ID": "", "Expected": ""},
        "InitCommit": {"ID": "", "Expected": ""},
        "SecurityOptions": sec_opts,
        "ProductLicense": "Apache-2.0",
        "Warnings": [],
        "BuildahVersion": host.get("buildahVersion", ""),
        "CPURealtimePeriod": sys["CPURealtimePeriod"],
        "CPURealtimeRuntime": sys["CPURealtimeRuntime"],
        "CgroupVersion": host.get("cgroupVersion", "").lstrip("v"),
        "Rootless": bool(security.get("rootless")),
        "SwapFree": host.get("swapFree", 0),
        "SwapTotal": host.get("swapTotal", 0),
        "Uptime": host.get("uptime", ""),
    }
    if features.compat_info_docker25:  # KernelMemory(TCP) omitempty (always false), CDISpecDirs added
        del body["KernelMemory"], body["KernelMemoryTCP"]
        body = _insert_after(body, "ProductLicense", "CDISpecDirs", None)
    return json_response(200, body)


def _insert_after(body: dict, key: str, new: str, value) -> dict:
    out = {}
    for k, v in body.items():
        out[k] = v
        if k == key:
            out[new] = value
    return out
