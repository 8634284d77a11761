"""Repository-wide pytest settings."""


def pytest_collection_modifyitems(items):
    # nbval waits a fixed 5 s for a cell's output messages after the kernel replies. On two busy cores,
    # right after a cold-cache cell (Lab 5 renders its world on first use), they can arrive later than that.
    for item in items:
        if hasattr(item, "output_timeout"):
            item.output_timeout = 60
