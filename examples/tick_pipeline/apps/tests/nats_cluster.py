#!/usr/bin/python3
"""A real NATS JetStream cluster on loopback for the end-to-end scripts, as nats_cluster.hpp
gives the C++ tests: `nodes` nats-server processes (n0, n1, ...), each with its own config file,
log file and file store in one fresh temporary directory, and client, route and monitoring ports
that the kernel picked free.

    with NatsCluster(3) as cluster:
        run_ingest("--publish", cluster.urls)
        cluster.kill(0); ...; cluster.restart(0)

Ready means checked: nats-server 2.9's plain GET /healthz answers 200 only once the server takes
clients, JetStream is on, it knows a meta leader, its copy of the meta log is current, and so is
every stream and consumer replica on it (?js-enabled-only=true checks only that JetStream is on).
On top of that, wait_ready() (which starting and restart() end with) requires routes between all
live nodes and one meta leader that all of them name. A failure raises NatsClusterError with the
tail of the node's log.

The server is the `server` argument, else $POLARWAY_NATS_SERVER, else nats-server in PATH (or
/usr/sbin, where Debian puts it). Each node runs under util-linux's `setpriv --pdeathsig KILL`
(when setpriv is there), so a script that dies without leaving the `with` block takes its
servers with it; leaving the block kills them all and removes the directory.

Run as a script, it checks itself: three nodes, JetStream on with one meta leader everywhere,
the meta leader killed and a new one elected, the old one restarted and back in, one node paused
and resumed, and nothing left behind.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request


class NatsClusterError(RuntimeError):
    pass


def free_ports(count):
    """`count` distinct ports free on 127.0.0.1 now: all bound to port 0 at once, then released."""
    socks = [socket.socket() for _ in range(count)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def http_get(port, path, timeout=1.0):
    """(status, body) of GET http://127.0.0.1:PORT/PATH; (0, why) when no answer came. A stopped
    (SIGSTOP) server accepts the connection in the kernel and never answers: `timeout` bounds it."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")
    except (OSError, ValueError) as e:
        return 0, str(e)


class NatsCluster:
    # A lost leader is replaced after nats-server 2.9's Raft election timeout, 4 to 9 s.
    READY_TIMEOUT = 30.0
    POLL_INTERVAL = 0.1
    START_ATTEMPTS = 3
    LOG_TAIL_LINES = 30

    def __init__(self, nodes=3, server=None):
        if nodes < 1:
            raise NatsClusterError("NatsCluster: no nodes asked for")
        self.size = nodes
        # Debian installs it in /usr/sbin, which a non-root user's PATH often lacks.
        in_path = shutil.which("nats-server", path=os.environ.get("PATH", os.defpath) + os.pathsep + "/usr/sbin")
        self.server = server or os.environ.get("POLARWAY_NATS_SERVER") or in_path
        if not self.server:
            raise NatsClusterError("nats-server not found: pass server= or set POLARWAY_NATS_SERVER")
        self.setpriv = shutil.which("setpriv")
        self.directory = None
        self._nodes = []

    # -- the context manager ----------------------------------------------------------------
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def start(self):
        """Starts every node and waits until the cluster is ready. The ports were free when
        picked but are bound only when the servers start: a start that lost one to another
        process is retried whole, with new ports and a new directory."""
        for attempt in range(1, self.START_ATTEMPTS + 1):
            try:
                self._start_once()
                return
            except NatsClusterError as e:
                port_taken = getattr(e, "port_taken", False)
                self.close()
                if not port_taken or attempt == self.START_ATTEMPTS:
                    raise

    def close(self):
        """Kills and reaps every node still running, and removes the directory."""
        for i in range(len(self._nodes)):
            self.kill(i)
        self._nodes = []
        if self.directory:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None

    # -- what a test uses ---------------------------------------------------------------------
    @property
    def urls(self):
        """Every node's client URL, comma-separated, in node order."""
        return ",".join(self.url(i) for i in range(self.size))

    def url(self, i):
        return f"nats://127.0.0.1:{self._nodes[i]['client']}"

    def name(self, i):
        return f"n{i}"

    def running(self, i):
        return self._nodes[i]["process"] is not None

    def pids(self):
        """The process ids of the nodes started and not killed or stopped."""
        return [n["process"].pid for n in self._nodes if n["process"] is not None]

    def kill(self, i):
        """SIGKILL, then reap: the node's ports are closed when this returns."""
        node = self._nodes[i]
        p = node["process"]
        if p is None:
            return
        p.kill()
        p.wait()
        node["process"] = None
        node["paused"] = False

    def pause(self, i):
        """SIGSTOP; returns once the node is stopped. Its sockets stay open, nothing answers."""
        node = self._nodes[i]
        p = node["process"]
        if p is None or node["paused"]:
            return
        os.kill(p.pid, signal.SIGSTOP)
        os.waitpid(p.pid, os.WUNTRACED)
        node["paused"] = True

    def resume(self, i):
        """SIGCONT; returns once the node runs again. A node resumed after more than an election
        timeout campaigns at once with a higher term and can depose the meta and stream leaders:
        wait_ready() waits until the cluster has settled again."""
        node = self._nodes[i]
        p = node["process"]
        if p is None or not node["paused"]:
            return
        os.kill(p.pid, signal.SIGCONT)
        os.waitpid(p.pid, os.WCONTINUED)
        node["paused"] = False

    def restart(self, *nodes):
        """Starts the nodes again with their configs, ports and stores (killing any that still
        runs first, as a crash would) and waits until wait_ready() holds: they are healthy, their
        replicas caught up, and routed to the others. Their logs go on in the same files. Nodes
        that can only elect a meta leader together (every node of the cluster, after all were
        killed) are restarted in one call."""
        for i in nodes:
            self.kill(i)
            self._spawn(i)
        self.wait_ready()

    def wait_ready(self):
        """Waits until JetStream is usable across the live nodes (running and not paused): each
        answers /healthz with 200 and has a route to every other live node, and all of them name
        the same meta leader, which is one of them. It must hold on two polls in a row with the
        same leader, since a node just resumed can still depose the leader right after the
        cluster first looks settled. Raises NatsClusterError when a node ends or after
        READY_TIMEOUT seconds, naming the node, with the tail of its log."""
        deadline = time.monotonic() + self.READY_TIMEOUT
        settled_leader = None
        while True:
            for i, node in enumerate(self._nodes):
                if node["process"] is None:
                    continue
                exited = self._reap_if_exited(i)
                if exited:
                    e = NatsClusterError(f"{self.name(i)} {exited}\n{self._log_tail(i)}")
                    e.port_taken = "address already in use" in self.log(i)
                    raise e
            live = [i for i, n in enumerate(self._nodes) if n["process"] is not None and not n["paused"]]
            if not live:
                raise NatsClusterError("no node runs unpaused")
            why, failing, leader = "", live[0], ""
            for i in live:
                why = self._not_ready_because(i, len(live) - 1)
                if why:
                    failing = i
                    break
            if not why and self.size > 1:
                leaders = {i: self.meta_leader(i) for i in live}
                leader = leaders[live[0]]
                for i, seen in leaders.items():
                    if not seen or seen != leader:
                        why, failing = f'meta leader "{seen}", {self.name(live[0])} says "{leader}"', i
                        break
                if not why and leader not in {self.name(i) for i in live}:
                    why = f"meta leader {leader} is not running"
            if not why:
                if settled_leader == leader:
                    return
                settled_leader = leader
            else:
                settled_leader = None
            if time.monotonic() >= deadline:
                raise NatsClusterError(f"JetStream cluster not ready within {self.READY_TIMEOUT:g} s: "
                                       f"{self.name(failing)}: {why}\n{self._log_tail(failing)}")
            time.sleep(self.POLL_INTERVAL)

    def monitor(self, i, path):
        """The JSON of a 200 answer from the node's monitoring endpoint (e.g. "/jsz"); raises
        NatsClusterError otherwise."""
        status, body = http_get(self._nodes[i]["http"], path)
        if status != 200:
            raise NatsClusterError(f"{self.name(i)} GET {path}: {status or ''} {body}".replace("  ", " "))
        return json.loads(body)

    def monitoring_port(self, i):
        return self._nodes[i]["http"]

    def meta_leader(self, i):
        """The meta leader's name in the node's /jsz ("" when it names none or does not answer)."""
        status, body = http_get(self._nodes[i]["http"], "/jsz")
        if status != 200:
            return ""
        return (json.loads(body).get("meta_cluster") or {}).get("leader", "")

    def log(self, i):
        """Everything the node wrote to stdout and stderr, over all of its runs."""
        with open(self._nodes[i]["log"], errors="replace") as f:
            return f.read()

    # -- inside ---------------------------------------------------------------------------------
    def _start_once(self):
        self.directory = tempfile.mkdtemp(prefix="pw-nats-")
        ports = free_ports(3 * self.size)
        self._nodes = []
        for i in range(self.size):
            self._nodes.append({
                "client": ports[3 * i], "route": ports[3 * i + 1], "http": ports[3 * i + 2],
                "config": os.path.join(self.directory, f"n{i}.conf"),
                "log": os.path.join(self.directory, f"n{i}.log"),
                "process": None, "paused": False,
            })
        for i in range(self.size):
            self._write_config(i)
        for i in range(self.size):
            self._spawn(i)
        self.wait_ready()

    def _write_config(self, i):
        node = self._nodes[i]
        lines = [
            f"# n{i} of a {self.size}-node JetStream cluster for a test (nats_cluster.py).",
            f"server_name: n{i}",
            f"listen: 127.0.0.1:{node['client']}",
            f"http: 127.0.0.1:{node['http']}",
        ]
        if self.size > 1:
            lines += ["cluster {", "  name: pw-test", f"  listen: 127.0.0.1:{node['route']}", "  routes: ["]
            lines += [f"    nats-route://127.0.0.1:{peer['route']}" for j, peer in enumerate(self._nodes) if j != i]
            lines += ["  ]", "}"]
        lines += ["jetstream {", f'  store_dir: "{os.path.join(self.directory, f"n{i}-store")}"', "}"]
        with open(node["config"], "w") as f:
            f.write("\n".join(lines) + "\n")

    def _spawn(self, i):
        node = self._nodes[i]
        argv = [self.server, "-c", node["config"]]
        if self.setpriv:
            argv = [self.setpriv, "--pdeathsig", "KILL", "--", *argv]
        with open(node["log"], "ab") as log:
            node["process"] = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        node["paused"] = False

    def _reap_if_exited(self, i):
        """How the node's process ended, if it did ("" while it runs)."""
        node = self._nodes[i]
        p = node["process"]
        if p is None:
            return "not running"
        if p.poll() is None:
            return ""
        node["process"] = None
        node["paused"] = False
        return f"exited with status {p.returncode}" if p.returncode >= 0 else f"ended by signal {-p.returncode}"

    def _not_ready_because(self, i, routes):
        """"" when the node is healthy with at least `routes` routes, else why not."""
        port = self._nodes[i]["http"]
        status, body = http_get(port, "/healthz")
        if status != 200:
            return f"/healthz: {status or ''} {body.strip()}".replace("  ", " ")
        if routes == 0:
            return ""
        status, body = http_get(port, "/routez")
        if status != 200:
            return f"/routez: {status or ''} {body.strip()}".replace("  ", " ")
        have = json.loads(body).get("num_routes", 0)
        return "" if have >= routes else f"{have} routes of {routes}"

    def _log_tail(self, i):
        lines = self.log(i).splitlines()[-self.LOG_TAIL_LINES:]
        return f"--- last lines of {self._nodes[i]['log']} ---\n" + "\n".join(lines)


def _self_test(server):
    """The fixture against itself; the process's exit status says whether every check held."""
    from checklist import check, failures

    started = time.monotonic()
    with NatsCluster(3, server=server) as cluster:
        directory = cluster.directory
        ports = [cluster.monitoring_port(i) for i in range(3)]
        check(cluster.urls == ",".join(cluster.url(i) for i in range(3)), f"urls {cluster.urls}")
        jsz = [cluster.monitor(i, "/jsz") for i in range(3)]
        check(all("config" in j and j["config"].get("store_dir", "").startswith(directory) for j in jsz),
              "/jsz: JetStream on, every store in the fixture's directory")
        leaders = {j["meta_cluster"].get("leader") for j in jsz}
        check(len(leaders) == 1 and None not in leaders, f"/jsz: one meta leader on every node {leaders}")
        check(all(j["meta_cluster"].get("cluster_size") == 3 for j in jsz), "/jsz: meta cluster size 3")

        # The meta leader killed: the two others elect one of themselves (Raft, 4 to 9 s).
        old = int(leaders.pop()[1:])
        cluster.kill(old)
        check(not cluster.running(old) and http_get(ports[old], "/healthz")[0] == 0, f"n{old} killed: no answer")
        others = [i for i in range(3) if i != old]
        deadline = time.monotonic() + 20
        new = set()
        while time.monotonic() < deadline:
            new = {cluster.meta_leader(i) for i in others}
            if len(new) == 1 and "" not in new and f"n{old}" not in new:
                break
            time.sleep(0.1)
        check(len(new) == 1 and "" not in new and f"n{old}" not in new, f"a new meta leader {new} after n{old}")

        cluster.restart(old)
        back = cluster.monitor(old, "/jsz")["meta_cluster"].get("leader")
        check(back in new, f"n{old} restarted: healthy, follows the new leader {back}")
        check(cluster.log(old).count("Starting nats-server") == 2, f"n{old}'s log holds both runs")

        # Paused for longer than an election timeout, so that on resuming it campaigns at once.
        paused = others[0]
        cluster.pause(paused)
        check(http_get(ports[paused], "/healthz", timeout=0.5)[0] == 0, f"n{paused} paused: no answer")
        time.sleep(10)
        cluster.resume(paused)
        cluster.wait_ready()
        check(cluster.monitor(paused, "/healthz").get("status") == "ok", f"n{paused} resumed: healthy")
        leaders = {cluster.meta_leader(i) for i in range(3)}
        check(len(leaders) == 1 and "" not in leaders, f"after the resume, one meta leader everywhere {leaders}")
    check(not os.path.exists(directory), "directory removed")
    check(all(http_get(p, "/healthz")[0] == 0 for p in ports), "no node answers after the block")
    print(f"self-test took {time.monotonic() - started:.1f} s")
    if failures:
        print(f"{len(failures)} checks FAILED")
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    _self_test(sys.argv[1] if len(sys.argv) > 1 else None)
