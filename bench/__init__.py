"""The benchmark harness of the portal: `make bench` runs `bench/run.py`."""
