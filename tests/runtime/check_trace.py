#!/usr/bin/python3
"""The flight recorder's trace file loads as JSON in the Chrome trace event format.

Runs flight_recorder_test's runtime case with POLARWAY_TRACE_OUT set, so that it leaves its trace
file behind, then loads the file with Python's json module and checks: every event has a name, a
phase among B, E, i and M, a pid, a tid and (but for metadata) a time; on each worker's track the
times never go backwards and the B/E slices nest and balance; and the events the runtime recorded
include task runs, spawns, parks, I/O and steals.

usage: check_trace.py FLIGHT_RECORDER_TEST WORK_DIR
"""
import json
import os
import subprocess
import sys

TEST, WORK = sys.argv[1:3]
os.makedirs(WORK, exist_ok=True)
path = os.path.join(WORK, "trace.json")
if os.path.exists(path):
    os.remove(path)
run = subprocess.run([TEST, "-tc=a runtime's trace holds*"], env=dict(os.environ, POLARWAY_TRACE_OUT=path),
                     capture_output=True, text=True, timeout=120)
if run.returncode != 0:
    sys.exit(f"the test failed ({run.returncode}): {run.stdout[-2000:]}{run.stderr[-2000:]}")
with open(path) as f:
    trace = json.load(f)
events = trace["traceEvents"]
failures = []
names = set()
tracks = {}
for e in events:
    if not {"name", "ph", "pid", "tid"} <= e.keys() or e["ph"] not in ("B", "E", "i", "M"):
        failures.append(f"malformed event {e}")
        continue
    if e["ph"] == "M":
        continue
    names.add(e["name"])
    tracks.setdefault(e["tid"], []).append(e)
for tid, track in tracks.items():
    depth, last = 0, -1.0
    for e in track:
        if e["ts"] < last:
            failures.append(f"worker {tid}: time goes back at {e}")
        last = e["ts"]
        depth += {"B": 1, "E": -1}.get(e["ph"], 0)
        if depth < 0:
            failures.append(f"worker {tid}: a slice ends that never began at {e}")
            depth = 0
    if depth != 0:
        failures.append(f"worker {tid}: {depth} slices never end")
for wanted in ("spawn", "parked", "io", "steal"):
    if wanted not in names:
        failures.append(f"no {wanted} event in {sorted(names)[:20]}")
if not any(n.startswith("/") or ".cpp:" in n for n in names):
    failures.append("no task run named by its spawn site")
if failures:
    sys.exit("\n".join(failures[:20]))
print(f"ok: {len(events)} events on {len(tracks)} workers")
