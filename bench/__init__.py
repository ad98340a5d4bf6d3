"""`make bench`: the catalogue's performance benchmark (see ``bench/run.py``)."""
