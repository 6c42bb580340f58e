"""The end-to-end scripts' checks: check() prints one line per check, "ok   what" or
"FAIL what", and keeps the failed ones in `failures`, which each script reports at its end."""

failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)
    return ok
