"""What the benchmark reports of bench/pipeline and bench/io share: the machine they ran on, the
load average, and writing their own marked section into docs/benchmarks.md (the side-by-side
harness, bench/compare/driver.py, keeps such sections verbatim when it rewrites the file)."""

import os
import platform
import subprocess


def sh(cmd):
    """A command's stdout, stripped; "" if it cannot run."""
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=20).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def peer_python(repo):
    """The interpreter of the Python environment scripts/setup.sh builds in build/venv, where the
    Python peers' packages (uvloop, websockets, orjson from PyPI, pinned) are."""
    return os.path.join(repo, "build", "venv", "bin", "python")


def package_versions(python, names):
    """{name: version} of the installed distributions `names` as `python` sees them ("" for one
    that is missing, every one "" when `python` cannot run)."""
    code = ("import importlib.metadata as m, sys\n"
            "for n in sys.argv[1:]:\n"
            "    try: print(m.version(n))\n"
            "    except m.PackageNotFoundError: print()")
    out = sh([python, "-c", code, *names]).split("\n")
    return {n: (out[i].strip() if i < len(out) else "") for i, n in enumerate(names)}


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine(repo):
    """CPU model, core count, kernel, g++ and the git revision (marked if the tree is dirty)."""
    rev = sh(["git", "-C", repo, "rev-parse", "--short", "HEAD"])
    dirty = bool(sh(["git", "-C", repo, "status", "--porcelain", "--untracked-files=no"]))
    return {
        "cpu": cpu_model(),
        "nproc": sh(["nproc"]) or str(os.cpu_count()),
        "kernel": platform.release(),
        "gxx": (sh(["g++", "--version"]).splitlines() or [""])[0],
        "git": (f"git {rev}" + (" (with uncommitted changes)" if dirty else "")) if rev else "working tree",
    }


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return ""


def splice(path, section, begin, end):
    """Replaces the part of `path` from `begin` to `end` (markers included) with `section`, or
    inserts it before "## Raw output", or appends it."""
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        text = ""
    section = section.rstrip("\n")
    i = text.find(begin)
    j = text.find(end, i + len(begin)) if i >= 0 else -1
    if i >= 0 and j >= 0:
        text = text[:i] + section + text[j + len(end):]
    elif "\n## Raw output\n" in text:
        k = text.index("\n## Raw output\n") + 1
        text = text[:k] + section + "\n\n" + text[k:]
    else:
        text = (text.rstrip("\n") + "\n\n" if text else "") + section + "\n"
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)
