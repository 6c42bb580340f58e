"""A polarway-feed process for the end-to-end tests: started on a port the kernel chooses, and
stopped by a signal, which the feed answers by closing its connections and printing its exit
summary on stderr.

The feed's first line on stderr is "listening on HOST:PORT", written once its listener is
bound, so a test may connect as soon as start() returns. Later stderr lines are left in the
pipe until stop() reads them: a test that runs a feed without --quiet for long should read
them itself.
"""
import re
import signal
import subprocess


def start(feed_bin, *args, stdout=subprocess.DEVNULL):
    """Runs `feed_bin --listen 127.0.0.1:0 ARGS...`; returns (process, "127.0.0.1:PORT").
    Exits the test with the feed's first line if that line does not say where it listens."""
    feed = subprocess.Popen([feed_bin, "--listen", "127.0.0.1:0", *args],
                            stdout=stdout, stderr=subprocess.PIPE, text=True)
    line = feed.stderr.readline()
    m = re.search(r"listening on (\S+)", line)
    if not m:
        feed.kill()
        rest = feed.communicate()[1]
        raise SystemExit(f"polarway-feed did not say where it listens: {line + rest!r}")
    return feed, m.group(1)


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
