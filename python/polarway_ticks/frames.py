"""Tick batches as Polars DataFrames."""


def to_polars(batch):
    """``batch`` (a ``pyarrow.RecordBatch`` or ``Table``) as a ``polars.DataFrame``.

    ``polars.from_arrow`` takes over the Arrow buffers without copying wherever the two
    memory layouts agree (the integer, decimal, timestamp and boolean columns); Polars keeps
    strings in its own string-view layout, so ``symbol`` is converted. Polars is imported
    only here, as it is an optional dependency.
    """
    try:
        import polars
    except ImportError as error:
        raise ImportError(
            "to_polars needs Polars: pip install 'polarway-ticks[polars]' (or pip install polars)"
        ) from error
    return polars.from_arrow(batch)
