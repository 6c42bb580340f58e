"""A polarway-feed process for the end-to-end tests: started on a port the kernel chooses, and
stopped by a signal, which the feed answers by closing its connections and printing its exit
summary on stderr.

The feed says "listening on HOST:PORT" on stderr once its listener is bound, so a test may
connect as soon as start() returns. Lines before it (a stall report from the runtime, on a
loaded machine) are skipped; later stderr lines are left in the pipe until stop() reads them:
a test that runs a feed without --quiet for long should read them itself.
"""
import re
import signal
import subprocess


def start(feed_bin, *args, stdout=subprocess.DEVNULL):
    """Runs `feed_bin --listen 127.0.0.1:0 ARGS...`; returns (process, "127.0.0.1:PORT").
    Exits the test with what the feed wrote if it ends without saying where it listens."""
    feed = subprocess.Popen([feed_bin, "--listen", "127.0.0.1:0", *args],
                            stdout=stdout, stderr=subprocess.PIPE, text=True)
    addr, seen = wait_for_line(feed.stderr, r"listening on (\S+)")
    if addr is None:
        feed.kill()
        rest = feed.communicate()[1]
        raise SystemExit(f"polarway-feed did not say where it listens: {seen + rest!r}")
    return feed, addr


def wait_for_line(stream, pattern, max_lines=100):
    """Reads `stream` until a line matches `pattern`; returns (its first group, the text read).
    The group is None if the stream ends, or `max_lines` lines pass, first."""
    seen = ""
    for _ in range(max_lines):
        line = stream.readline()
        if not line:
            break
        seen += line
        m = re.search(pattern, line)
        if m:
            return m.group(1), seen
    return None, seen


def port_of(addr):
    """The port of "HOST:PORT", as text."""
    return addr.rsplit(":", 1)[1]


def stop(feed, sig=signal.SIGINT, timeout=60):
    """Sends `sig` and waits up to `timeout` s; returns (exit status, stderr). A feed still running
    then is killed, and its status is None."""
    feed.send_signal(sig)
    try:
        err = feed.communicate(timeout=timeout)[1]
        return feed.returncode, err
    except subprocess.TimeoutExpired:
        feed.kill()
        return None, feed.communicate()[1]
